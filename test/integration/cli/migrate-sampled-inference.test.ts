import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Document, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';

/**
 * `ferry migrate` infers its mapping from the first documents of each collection (here
 * `--sample 50`) and checks the whole load against it: a document beyond the sample that the
 * mapping does not fit is neither lost nor left silently untyped.
 */
interface MigrateJson {
  ok: boolean;
  inferred?: { configFile?: string; sampled: string[] };
  widened?: {
    beyondSample: { collection: string; table: string; fields: { key: string; rows: number }[] }[];
    reloaded: string[];
  };
  plan: {
    collections: {
      name: string;
      tables: { columns: { name: string; pgType: string; references?: unknown }[] }[];
    }[];
  };
  backfill: { collections: { collection: string; migrated: number; rejected: number }[] };
  verify: { level: string; ok: boolean }[];
}

const customerId = (i: number) => new ObjectId(`64b000000000000000${String(i).padStart(6, '0')}`);

function* customers(count: number): Generator<Document> {
  for (let i = 0; i < count; i++) yield { _id: customerId(i), name: `customer ${i}` };
}

/** Orders whose first 50 all look alike; `rare` puts something else at chosen positions. */
function* orders(count: number, rare: Record<number, Document> = {}): Generator<Document> {
  for (let i = 0; i < count; i++)
    yield {
      _id: new ObjectId(`64c000000000000000${String(i).padStart(6, '0')}`),
      // Customers 60..99 are only referenced after the sample: the reference must still hold.
      customer: customerId(i % 100),
      total: 10 + i,
      ...rare[i],
    };
}

describe.skipIf(!postgresUrl())('ferry migrate infers from a sample and checks the load against it', () => {
  let url: string;
  let drop: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('cli_migrate_sampled'));
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-sampled-'));
  });
  afterAll(async () => {
    await drop?.();
  });

  it('widens the mapping when a field and a type beyond the sample appear, says so, and loads them typed', async () => {
    const archive = path.join(dir, 'rare.archive');
    await writeArchive(archive, 'shop', [
      { name: 'customers', docs: customers(100) },
      // A field never seen in the sample, and a double where the sample only had integers.
      { name: 'orders', docs: orders(200, { 150: { coupon: 'SPRING' }, 180: { total: 12.5 } }) },
    ]);
    const cwd = await mkdtemp(path.join(dir, 'rare-'));
    const args = ['migrate', archive, '--target', url, '--schema', 'rare', '--sample', '50'];

    const result = await runFerry([...args, '--json'], { cwd });

    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as MigrateJson;
    expect(json.ok).toBe(true);
    expect(json.widened?.beyondSample).toEqual([
      {
        collection: 'orders',
        table: 'orders',
        fields: [
          { key: 'coupon', rows: 1 },
          { key: 'total', rows: 1 },
        ],
      },
    ]);
    expect(json.widened?.reloaded).toContain('orders');
    expect(json.verify).toEqual([expect.objectContaining({ level: 'deep', ok: true })]);
    // The widened mapping is the one written for review, and the rows hold the rare values typed.
    expect(await readFile(path.join(cwd, 'ferry.config.ts'), 'utf8')).toContain('coupon');
    const rows = await sql<{ coupon: string | null; total: string; untyped: number }>(
      url,
      `select coupon, total::text as total,
              (select count(*)::int from rare.orders where _extra is not null) as untyped
         from rare.orders where coupon is not null or total::text like '%.%'
        order by total`,
    );
    expect(rows).toEqual([
      { coupon: null, total: '12.5', untyped: 0 },
      { coupon: 'SPRING', total: '160', untyped: 0 },
    ]);
  });

  it('keeps the sampled mapping when every document fits it, with references found beyond the sample', async () => {
    const archive = path.join(dir, 'regular.archive');
    await writeArchive(archive, 'shop', [
      { name: 'customers', docs: customers(100) },
      { name: 'orders', docs: orders(200) },
    ]);
    const cwd = await mkdtemp(path.join(dir, 'regular-'));
    const args = ['migrate', archive, '--target', url, '--schema', 'regular', '--sample', '50'];

    const result = await runFerry(args, { cwd });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      'mapping: inferred from the first documents of customers, orders; every loaded document was then checked against it and fitted',
    );
    const again = JSON.parse(
      (
        await runFerry(
          ['migrate', archive, '--target', url, '--schema', 'regular_json', '--sample', '50', '--json'],
          { cwd: await mkdtemp(path.join(dir, 'regular-json-')) },
        )
      ).stdout,
    ) as MigrateJson;
    expect(again.widened).toBeUndefined();
    expect(again.inferred?.sampled).toEqual(['customers', 'orders']);
    // Every customer id was noted, so the orders' reference is proposed although half of the
    // customers were never analysed and orders 50+ refer to customers 50..99.
    const customer = again.plan.collections
      .find((c) => c.name === 'orders')
      ?.tables[0]?.columns.find((c) => c.name === 'customer' || c.name === 'customer_id');
    expect(customer?.references).toEqual({ table: 'customers', column: 'id' });
    const foreignKeys = await sql<{ n: number }>(
      url,
      `select count(*)::int as n from information_schema.table_constraints
        where table_schema = 'regular' and table_name = 'orders' and constraint_type = 'FOREIGN KEY'`,
    );
    expect(foreignKeys).toEqual([{ n: 1 }]);
  });
});
