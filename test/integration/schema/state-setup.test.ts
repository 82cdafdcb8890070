import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { applyMigrations } from '../../../src/schema/apply-migrations.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { readMigrationFiles, writeMigrations } from '../../../src/schema/migration-files.js';
import { ensureFerryState, STATE_MIGRATIONS } from '../../../src/target/ferry-state.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { test as base, useTarget } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';

// Two separate targets (pools) on one database, as two processes would have: `db` and `second`.
const test = base.extend<{ second: TargetDatabase }>({
  second: [({ pgUrl }, use) => useTarget(pgUrl, use), { scope: 'file' }],
});

describe.skipIf(!postgresUrl())('Ferry state setup and the migration runner under concurrency', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-state-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('sets up schema ferry once when two connections run setup at the same moment', async ({
    db: a,
    second: b,
  }) => {
    const [first, second] = await Promise.all([ensureFerryState(a), ensureFerryState(b)]);
    expect([first, second].map((v) => v.length).sort()).toEqual([0, STATE_MIGRATIONS.length]);
    const { rows } = await a.query<{ n: number }>('select count(*)::int as n from ferry.state_migrations');
    expect(rows[0]!.n).toBe(STATE_MIGRATIONS.length);
    expect(await ensureFerryState(a)).toEqual([]);
  });

  test('stops before the after-load file when asked, for a backfill to run in between', async ({ db: a }) => {
    await writeMigrations(dir, buildSchema(parsePlan(shopPlan())));
    const files = await readMigrationFiles(dir);
    expect(files.map((f) => f.phase)).toEqual(['before-load', 'after-load']);
    const applied = await applyMigrations(a, files, ['staged'], { until: 'before-load' });
    expect(applied.get('staged')).toEqual([1]);
    const foreignKeys = async () => {
      const { rows } = await a.query<{ n: number }>(
        `select count(*)::int as n from pg_constraint where contype = 'f' and connamespace = 'staged'::regnamespace`,
      );
      return rows[0]!.n;
    };
    // Every foreign key, the child tables' keys to their parents too, comes with the after-load file.
    expect(await foreignKeys()).toBe(0);
    await applyMigrations(a, files, ['staged']);
    expect(await foreignKeys()).toBeGreaterThanOrEqual(3);
  });

  test('applies each file once when two processes apply to the same schema at the same moment', async ({
    db: a,
    second: b,
  }) => {
    const files = await readMigrationFiles(dir);
    const [first, second] = await Promise.all([
      applyMigrations(a, files, ['shared']),
      applyMigrations(b, files, ['shared']),
    ]);
    expect([...(first.get('shared') ?? []), ...(second.get('shared') ?? [])].sort()).toEqual([1, 2]);
    const { rows } = await a.query<{ version: number }>(
      `select version from ferry.migrations where schema = 'shared' order by version`,
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
  });
});
