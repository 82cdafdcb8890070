import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanInput } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { customers, orders, planInput, sql, writeSource } from '../load/support.js';

type Column = {
  name: string;
  path: string[];
  pgType: string;
  sourceType: string;
  nullable: boolean;
} & Record<string, unknown>;

type Edit = (tables: Record<string, { columns: Column[] }>) => void;

/** The load fixtures' mapping with `edits` applied to a copy (the user edited ferry.config.ts). */
function editedPlan(...edits: Edit[]): PlanInput {
  const copy = structuredClone(planInput) as unknown as {
    collections: { tables: { name: string; columns: Column[] }[] }[];
  };
  const tables = Object.fromEntries(copy.collections.flatMap((c) => c.tables.map((t) => [t.name, t])));
  for (const edit of edits) edit(tables);
  return copy as unknown as PlanInput;
}

/** The edits the tests make, one after the other, as a user reviewing the mapping would. */
const widenQty: Edit = (t) => {
  t.orders!.columns.find((c) => c.name === 'qty')!.pgType = 'bigint';
};
const renameNote: Edit = (t) => {
  Object.assign(t.orders!.columns.find((c) => c.name === 'note')!, { name: 'remark', renamedFrom: 'note' });
};
const addTier: Edit = (t) => {
  t.customers!.columns.push({
    name: 'tier',
    path: ['tier'],
    pgType: 'text',
    sourceType: 'string',
    nullable: true,
  });
};
const mapStray: Edit = (t) => {
  t.orders!.columns.push({
    name: 'stray',
    path: ['stray'],
    pgType: 'jsonb',
    sourceType: 'object',
    nullable: true,
  });
};
const customerRequired: Edit = (t) => {
  t.orders!.columns.find((c) => c.name === 'customer')!.nullable = false;
};

/**
 * Issue 11, "schema evolution after a load": after `migrate`, the mapping is edited and
 * `ferry schema apply` brings the loaded tables along with safe ALTERs (widening, renames
 * that keep the data), reloads only the collection a new column needs, and moves the
 * snapshot only when the migration committed.
 */
describe.skipIf(!postgresUrl())('schema apply after a load', () => {
  let url: string;
  let drop: () => Promise<void>;
  let cwd: string;
  const ferry = (...args: string[]) => runFerry([...args, '--target', url], { cwd });
  const useMapping = (mapping: PlanInput) =>
    writeFile(
      path.join(cwd, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: cwd, mapping })};\n`,
    );
  const columnType = async (table: string, column: string) =>
    (
      await sql<{ type: string }>(
        url,
        `select format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = $1::regclass and attname = $2 and not attisdropped`,
        [`public.${table}`, column],
      )
    )[0]?.type;
  const rowVersions = async (table: string) =>
    (
      await sql<{ v: string }>(
        url,
        `select string_agg(xmin::text || ':' || ctid::text, ',' order by id) as v from public.${table}`,
      )
    )[0]?.v;
  const migrationsFolder = async () => {
    const dir = path.join(cwd, 'migrations');
    const names = (await readdir(dir)).sort();
    return Promise.all(names.map(async (n) => `${n}\n${await readFile(path.join(dir, n), 'utf8')}`));
  };

  let mapping: PlanInput = planInput;
  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('schema_evolution'));
    cwd = await writeSource({
      customers: customers(10).map((c, i) => ({ ...c, tier: i % 2 === 0 ? 'gold' : 'silver' })),
      orders: orders(200),
    });
    await useMapping(mapping);
    const migrate = await ferry('migrate', '--verify', 'none');
    expect(migrate.code, migrate.stderr).toBe(0);
  });
  afterAll(async () => {
    await drop?.();
  });

  it('widens integer to bigint in place, without asking, and keeps every value', async () => {
    mapping = editedPlan(widenQty);
    await useMapping(mapping);
    const apply = await ferry('schema', 'apply');
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('widen orders.qty from integer to bigint');
    expect(apply.stderr).not.toContain('[destructive]');
    expect(await columnType('orders', 'qty')).toBe('bigint');
    const sums = await sql<{ n: string; total: string }>(
      url,
      'select count(*) as n, sum(qty) as total from orders',
    );
    expect(sums[0]).toEqual({
      n: '200',
      total: String(Array.from({ length: 200 }, (_, i) => i % 50).reduce((a, b) => a + b)),
    });
    expect((await ferry('schema', 'check')).code).toBe(0);
  });

  it('renames a column declared with renamedFrom and keeps its data, then verifies clean', async () => {
    mapping = editedPlan(widenQty, renameNote);
    await useMapping(mapping);
    const apply = await ferry('schema', 'apply');
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('rename column orders.note to remark');
    expect(apply.stderr).not.toContain('drop column');
    const rows = await sql<{ n: string }>(
      url,
      `select count(*) as n from orders where remark like 'order %' or remark like 'tab%'`,
    );
    expect(rows[0]?.n).toBe('200');
    expect(await columnType('orders', 'note')).toBeUndefined();
    expect((await ferry('schema', 'check')).code).toBe(0);
    const verify = await ferry('verify');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('adds a new nullable column and fills it from the source, reloading only that collection', async () => {
    const ordersBefore = await rowVersions('orders');
    mapping = editedPlan(widenQty, renameNote, addTier);
    await useMapping(mapping);
    // Before: the field sits in _extra, as invariant 2 demands of an unmapped field.
    const inExtra = await sql<{ n: string }>(
      url,
      `select count(*) as n from customers where _extra ? 'tier'`,
    );
    expect(inExtra[0]?.n).toBe('10');
    const apply = await ferry('schema', 'apply');
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('add column customers.tier text');
    expect(apply.stderr).toContain('reload collection customers from the source (new column customers.tier)');
    const tiers = await sql<{ tier: string; n: string }>(
      url,
      `select tier, count(*) as n from customers where _extra is null or not _extra ? 'tier' group by tier order by tier`,
    );
    expect(tiers).toEqual([
      { tier: 'gold', n: '5' },
      { tier: 'silver', n: '5' },
    ]);
    // Only the customers collection was reloaded: the orders rows are the very same row versions.
    expect(await rowVersions('orders')).toBe(ordersBefore);
    // The orders → customers key, dropped for the reload, is back.
    const check = await ferry('schema', 'check');
    expect(check.code, check.stdout).toBe(0);
  });

  it('leaves the migrations folder and snapshot untouched when the migration fails', async () => {
    const folder = await migrationsFolder();
    const good = mapping;
    // `set not null` on a column that holds NULLs fails inside the migration's transaction.
    const failing = editedPlan(widenQty, renameNote, addTier, customerRequired);
    // A reference the application cleared by hand since the load: the column now holds NULLs.
    await sql(url, `update orders set customer = null where qty = 7`);
    await useMapping(failing);
    const apply = await ferry('schema', 'apply', '--yes');
    expect(apply.code, apply.stderr).toBe(1);
    expect(apply.stderr).toMatch(/migration \d{4}_update_schema\.sql failed/);
    expect(await migrationsFolder()).toEqual(folder);
    await useMapping(good);
    const check = await ferry('schema', 'check');
    expect(check.code, check.stdout).toBe(0);
  });

  it('migrate --force --yes after a narrowing edit re-creates the table and reloads it', async () => {
    // qty back to integer: not a widening, so the orders tables are re-created.
    mapping = editedPlan(renameNote, addTier);
    await useMapping(mapping);
    const refused = await ferry('migrate', '--verify', 'none');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('drop table orders');
    const forced = await ferry('migrate', '--force', '--yes');
    expect(forced.code, forced.stderr).toBe(0);
    expect(await columnType('orders', 'qty')).toBe('integer');
    const n = await sql<{ n: string }>(url, 'select count(*) as n from orders where customer is not null');
    expect(n[0]?.n).toBe('200');
    expect((await ferry('schema', 'check')).code).toBe(0);
  });

  it('migrate without --force after a new nullable column reloads only that collection and verifies clean', async () => {
    const customersBefore = await rowVersions('customers');
    mapping = editedPlan(renameNote, addTier, mapStray);
    await useMapping(mapping);
    const migrate = await ferry('migrate');
    expect(migrate.code, migrate.stdout + migrate.stderr).toBe(0);
    expect(migrate.stderr).toContain('reload collection orders from the source (new column orders.stray)');
    const stray = await sql<{ n: string }>(url, 'select count(*) as n from orders where stray is not null');
    expect(stray[0]?.n).toBe(
      String(Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 11 === 0).length),
    );
    expect(await rowVersions('customers')).toBe(customersBefore);
    expect((await ferry('schema', 'check')).code).toBe(0);
  });
});
