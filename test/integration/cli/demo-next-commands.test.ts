import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

/**
 * Issue 11: `ferry demo` keeps its config in `.ferry/demo/`, where a bare `ferry verify` does
 * not look. The demo prints the exact next commands, and they work as printed, from the
 * demo's folder and from any other (the config's relative `source` resolves against the
 * config's folder).
 */
const url = postgresUrl();

describe.skipIf(!url)('ferry demo tells what to run next', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase('demo_next');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('prints ferry verify --config .ferry/demo/ferry.config.ts, which then verifies complete from anywhere', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-demo-next-'));
    const demo = await runFerry(['demo', '--scale', '600', '--target', db.url], { cwd });
    expect(demo.code, demo.stderr).toBe(0);
    const configFile = path.join('.ferry', 'demo', 'ferry.config.ts');
    expect(demo.stdout).toContain(`ferry verify --config ${configFile} --target <the same target>`);
    expect(demo.stdout).not.toContain(new URL(db.url).password);

    const here = await runFerry(['verify', '--config', configFile, '--target', db.url], { cwd });
    expect(here.code, here.stdout + here.stderr).toBe(0);
    expect(here.stdout).toMatch(/verify \(deep\): complete/);

    const elsewhere = await mkdtemp(path.join(tmpdir(), 'ferry-demo-elsewhere-'));
    const fromElsewhere = await runFerry(
      ['verify', '--config', path.join(cwd, configFile), '--target', db.url, '--level', 'count'],
      { cwd: elsewhere },
    );
    expect(fromElsewhere.code, fromElsewhere.stdout + fromElsewhere.stderr).toBe(0);
  });
});
