import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { customers, orders, sql } from '../load/support.js';

/**
 * `ferry migrate` takes the options of its steps (DESIGN.md "Command line"): the backfill's
 * `--dry-run`, and the verification's `--report`, `--fraction`, `--seed` and `--show-values`.
 */
interface MigrateJson {
  ok: boolean;
  dryRun: boolean;
  inferred?: { configFile?: string };
  backfill: { dryRun: boolean; collections: { collection: string; read: number; migrated: number }[] };
  verify: { level: string; fraction?: number; seed?: number; ok: boolean }[];
}

describe.skipIf(!postgresUrl())('ferry migrate with the options of its steps', () => {
  let url: string;
  let drop: () => Promise<void>;
  let archive: string;

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('cli_migrate_options'));
    archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-migrate-options-')), 'shop.archive');
    await writeArchive(archive, 'shop', [
      { name: 'customers', docs: customers(10) },
      { name: 'orders', docs: orders(120) },
    ]);
  });
  afterAll(async () => {
    await drop?.();
  });

  /** Every relation outside the system schemas: a dry run must leave this empty. */
  const userTables = () =>
    sql<{ name: string }>(
      url,
      `select table_schema || '.' || table_name as name from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema')`,
    );

  it('with --dry-run reads and maps every document but writes no row, schema, config or migration', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-dry-'));
    const result = await runFerry(['migrate', archive, '--dry-run', '--target', url, '--json'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as MigrateJson;
    expect(json.dryRun).toBe(true);
    expect(json.backfill.dryRun).toBe(true);
    expect(json.backfill.collections.map((c) => [c.collection, c.read, c.migrated]).sort()).toEqual([
      ['customers', 10, 10],
      ['orders', 120, 120],
    ]);
    expect(json.verify).toEqual([]);
    expect(await userTables()).toEqual([]);
    expect(existsSync(path.join(cwd, 'ferry.config.ts'))).toBe(false);
    expect(existsSync(path.join(cwd, 'migrations'))).toBe(false);
  });

  it('with --dry-run and no target does not create the embedded database', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-dry-embedded-'));
    const result = await runFerry(['migrate', archive, '--dry-run'], { cwd, env: { DATABASE_URL: '' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('dry run');
    expect(existsSync(path.join(cwd, '.ferry'))).toBe(false);
  });

  it('with --report writes the verification as HTML, and passes --fraction and --seed to a sample verification', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-report-'));
    const args = ['migrate', archive, '--target', url, '--schema', 'reported'];
    const sampled = ['--verify', 'sample', '--fraction', '0.5', '--seed', '7'];
    const result = await runFerry([...args, ...sampled, '--report', 'verify.html', '--json'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as MigrateJson;
    expect(json.ok).toBe(true);
    expect(json.verify).toEqual([
      expect.objectContaining({ level: 'sample', fraction: 0.5, seed: 7, ok: true }),
    ]);
    const html = await readFile(path.join(cwd, 'verify.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('orders');
    expect(html).toContain('customers');
  });

  it('with --show-values prints both values of a differing field, and without it only the path', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-values-'));
    const args = ['--target', url, '--schema', 'shown'];
    const first = await runFerry(['migrate', archive, ...args], { cwd });
    expect(first.code, first.stderr).toBe(0);
    // The same documents but one changed value: the load is already complete, so only the
    // verification sees the change.
    const changed = path.join(path.dirname(archive), 'changed.archive');
    const edited = orders(120).map((d, i) => (i === 1 ? { ...d, note: 'a note changed later' } : d));
    await writeArchive(changed, 'shop', [
      { name: 'customers', docs: customers(10) },
      { name: 'orders', docs: edited },
    ]);
    const shown = await runFerry(['migrate', changed, ...args, '--show-values'], { cwd });
    expect(shown.code, shown.stderr).toBe(1);
    expect(shown.stdout).toMatch(/content\s+orders\s+\S+\s+note \(value\)\s+source=.*a note changed later/);
    const hidden = await runFerry(['migrate', changed, ...args], { cwd });
    expect(hidden.code, hidden.stderr).toBe(1);
    expect(hidden.stdout).toMatch(/content\s+orders\s+\S+\s+note \(value\)/);
    expect(hidden.stdout).not.toContain('a note changed later');
  });

  it('refuses --report with --dry-run, and a sample fraction outside (0, 1], before reading anything', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-refused-'));
    const contradictory = await runFerry(
      ['migrate', archive, '--target', url, '--dry-run', '--report', 'verify.html'],
      { cwd },
    );
    expect(contradictory.code).toBe(2);
    expect(contradictory.stderr).toContain('--report and --dry-run');
    const badFraction = await runFerry(
      ['migrate', archive, '--target', url, '--schema', 'refused', '--verify', 'sample', '--fraction', '2'],
      { cwd },
    );
    expect(badFraction.code).toBe(2);
    expect(badFraction.stderr).toContain('--fraction must be in (0, 1]');
    expect(existsSync(path.join(cwd, 'verify.html'))).toBe(false);
    expect(existsSync(path.join(cwd, 'ferry.config.ts'))).toBe(false);
    expect((await userTables()).filter((t) => t.name.startsWith('refused.'))).toEqual([]);
  });
});
