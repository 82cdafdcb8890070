import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { customers, orders, planInput, sql, writeSource } from '../load/support.js';

/**
 * The backfill creates tables, indexes and foreign keys itself, and a user may run
 * `ferry schema apply` before or after it. Both orders must converge on the same schema
 * with no error and no drift.
 */
describe.skipIf(!postgresUrl())('schema apply and backfill in either order', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = await writeSource({ customers: customers(10), orders: orders(200) });
    await writeFile(
      path.join(cwd, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: cwd, mapping: planInput })};\n`,
    );
  });

  test('applies the migration files after a backfill already created every object, then finds no drift', async ({
    pgUrl: url,
  }) => {
    const backfill = await runFerry(['backfill', '--target', url, '--json'], { cwd });
    expect(backfill.code, backfill.stderr).toBe(0);
    const apply = await runFerry(['schema', 'apply', '--target', url], { cwd });
    expect(apply.code, apply.stderr).toBe(0);
    const check = await runFerry(['schema', 'check', '--target', url], { cwd });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const rows = await sql<{ count: string }>(url, 'select count(*)::text as count from public.orders');
    expect(rows[0]?.count).toBe('200');
  });

  test('re-applies the same files with no error and no change', async ({ pgUrl: url }) => {
    // A second apply of already-recorded files is a no-op; a forced re-run of the SQL itself
    // (as psql would) must not fail either.
    const again = await runFerry(['schema', 'apply', '--target', url], { cwd });
    expect(again.code, again.stderr).toBe(0);
    const files = await readdir(path.join(cwd, 'migrations'));
    for (const file of files.filter((f) => f.endsWith('.sql')).sort()) {
      const text = await readFile(path.join(cwd, 'migrations', file), 'utf8');
      await sql(url, text.replaceAll(':"schema"', '"public"'));
    }
    expect((await runFerry(['schema', 'check', '--target', url], { cwd })).code).toBe(0);
  });
});
