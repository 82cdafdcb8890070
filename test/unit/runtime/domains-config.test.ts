import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/load.js';
import { mirrorsWrites, PHASES } from '../../../src/runtime/domains.js';
import { createRuntime } from '../../../src/runtime/runtime.js';

describe('domains in the config', () => {
  it('accepts named domains of collections', () => {
    const config = validateConfig({ domains: { money: { collections: ['payments', 'ledger'] } } });
    expect(config.domains).toEqual({ money: { collections: ['payments', 'ledger'] } });
  });

  it('refuses a collection in two domains, naming the path and both domains', () => {
    expect(() =>
      validateConfig({ domains: { a: { collections: ['users'] }, b: { collections: ['orders', 'users'] } } }),
    ).toThrow(/b\.collections: collection "users" is already in domain "a"/);
  });

  it('refuses a domain without collections and unknown keys', () => {
    expect(() => validateConfig({ domains: { a: { collections: [] } } })).toThrow(/a\.collections/);
    expect(() => validateConfig({ domains: { a: { collections: ['x'], phase: 'pg_read' } } })).toThrow(
      /phase/,
    );
  });

  it('the runtime refuses a domain naming a collection the mapping does not have, before touching a store', async () => {
    const unused = {} as never;
    await expect(
      createRuntime({
        mongo: unused,
        pg: unused,
        config: { mapping: { version: 1, collections: [] }, domains: { a: { collections: ['ghosts'] } } },
      }),
    ).rejects.toMatchObject({ code: 'RUNTIME_UNKNOWN_COLLECTION' });
  });
});

describe('phases', () => {
  it('mirror writes in every phase after mongo', () => {
    expect(PHASES.filter(mirrorsWrites)).toEqual(['dual_write', 'shadow_read', 'pg_read']);
  });
});
