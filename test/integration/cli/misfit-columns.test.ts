import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, datasetPath, postgresUrl } from '../../support/services.js';

/**
 * "A mapping that cannot hold the data must not load silently" (issue 11): the sales
 * archive's Decimal128 prices under a nullable `integer` column all go to `_extra` while the
 * column stays NULL. `infer --check` refuses that mapping; backfill must at least say so, per
 * column, in its summary and in status, and `--strict` must refuse it.
 */
const archive = datasetPath('sample_supplies.archive.gz');
const url = postgresUrl();

const NUMERIC_PRICE = `{ name: 'price', path: ['price'], pgType: 'numeric', sourceType: 'decimal', nullable: false }`;
const NULLABLE_INTEGER_PRICE = `{ name: 'price', path: ['price'], pgType: 'integer', sourceType: 'int', nullable: true }`;
const ITEMS = 27438;

describe.skipIf(!archive || !url)('a typed column that cannot hold its values', () => {
  let db: { url: string; drop: () => Promise<void> };
  let cwd: string;
  const ferry = (...args: string[]) => runFerry([...args, '--target', db.url], { cwd });

  beforeAll(async () => {
    db = await createTestDatabase('misfit_columns');
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-misfit-'));
    expect((await runFerry(['infer', archive!], { cwd })).code).toBe(0);
    const config = await readFile(path.join(cwd, 'ferry.config.ts'), 'utf8');
    expect(config).toContain(NUMERIC_PRICE);
    await writeFile(path.join(cwd, 'ferry.config.ts'), config.replace(NUMERIC_PRICE, NULLABLE_INTEGER_PRICE));
    expect((await ferry('schema', 'apply')).code).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('is refused by infer --check, as before', async () => {
    const check = await runFerry(['infer', archive!, '--check'], { cwd });
    expect(check.code).not.toBe(0);
    expect(check.stdout + check.stderr).toMatch(/price/);
  });

  it('backfill loads it but warns, per column, how many values went to _extra', async () => {
    const result = await ferry('backfill', '--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.misfits).toEqual([
      {
        schema: 'public',
        collection: 'sales',
        table: 'sales_items',
        column: 'price',
        pgType: 'integer',
        sourceType: 'int',
        values: ITEMS,
      },
    ]);
    const text = await ferry('backfill');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `WARNING: column sales_items\\.price \\(integer, int\\) could not hold ${ITEMS} value\\(s\\) of sales`,
      ),
    );
    expect(text.stdout).toMatch(/ferry infer --check/);
  });

  it('status warns about the column too, in text and in --json', async () => {
    const text = await ferry('status');
    expect(text.stdout).toMatch(/WARNING: column sales_items\.price \(integer, int\) could not hold 27438/);
    const json = JSON.parse((await ferry('status', '--json')).stdout);
    expect(json.misfits).toMatchObject([{ table: 'sales_items', column: 'price', values: ITEMS }]);
  });

  it('backfill --strict turns the warning into an error with exit 1', async () => {
    const strict = await ferry('backfill', '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/FAILED \(--strict\): column sales_items\.price/);
  });
});
