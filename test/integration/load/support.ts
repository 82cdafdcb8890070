import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Document, EJSON, Int32, ObjectId } from 'bson';
import pg from 'pg';
import type { Plan, PlanInput } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import {
  type CollectionInput,
  type ColumnInput,
  child,
  col,
  collection,
  objectIdColumn,
  planOf,
  table,
} from '../../support/plans.js';

/**
 * Shared fixtures of the load tests: a small two-collection plan (orders with an items child
 * table, customers), documents generated from a counter, sources written as Extended JSON
 * lines files, and a canonical dump of every table to compare databases by.
 */
const customersCollection = collection('customers', [
  table('customers', [objectIdColumn, col('name', ['name'], 'text', 'string')]),
]);

function ordersCollection(
  customer: Partial<ColumnInput> = {},
  indexes?: CollectionInput['indexes'],
): CollectionInput {
  return collection(
    'orders',
    [
      table('orders', [
        objectIdColumn,
        col('customer', ['customer'], 'uuid', 'objectId', customer),
        col('note', ['note'], 'text', 'string'),
        col('qty', ['qty'], 'integer', 'int'),
      ]),
      child('orders_items', 'orders', ['items'], 'array', [
        col('sku', ['sku'], 'text', 'string'),
        col('n', ['n'], 'integer', 'int'),
      ]),
    ],
    indexes,
  );
}

export const planInput: PlanInput = planOf(customersCollection, ordersCollection());

export const plan: Plan = parsePlan(planInput);

/** The same plan with `orders.customer` a foreign key to customers and an index on `note`. */
export const referencingPlan: Plan = parsePlan(
  planOf(
    customersCollection,
    ordersCollection({ references: { table: 'customers', column: 'id' } }, [
      { name: 'note_1', key: { note: 1 } },
    ]),
  ),
);

/** A stable ObjectId for the i-th document of a collection (increasing with i). */
export function oid(i: number, salt = 0): ObjectId {
  return new ObjectId(
    `${(0x65000000 + i).toString(16).padStart(8, '0')}${salt.toString(16).padStart(16, '0')}`,
  );
}

export function customers(n: number): Document[] {
  return Array.from({ length: n }, (_, i) => ({ _id: oid(i, 1), name: `customer ${i}` }));
}

/** Orders with 0–3 items each, some with an extra field for `_extra`. */
export function orders(n: number, customerCount = 10): Document[] {
  return Array.from({ length: n }, (_, i) => ({
    _id: oid(i, 2),
    customer: oid(i % customerCount, 1),
    note: i % 7 === 0 ? `tab\there, line\nbreak ${i}` : `order ${i}`,
    qty: new Int32(i % 50),
    items: Array.from({ length: i % 4 }, (_, j) => ({ sku: `sku-${i}-${j}`, n: new Int32(j + 1) })),
    ...(i % 11 === 0 ? { stray: { deep: [1, 'two'] } } : {}),
  }));
}

/** Write collections as `<name>.jsonl` (canonical Extended JSON lines) into a fresh folder. */
export async function writeSource(collections: Record<string, readonly Document[]>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-load-'));
  await mkdir(dir, { recursive: true });
  for (const [name, docs] of Object.entries(collections)) {
    const lines = docs.map((d) => EJSON.stringify(d, { relaxed: false })).join('\n');
    await writeFile(path.join(dir, `${name}.jsonl`), `${lines}\n`);
  }
  return dir;
}

/**
 * A canonical dump of every table of `schema`: each table's rows as text, ordered by every
 * column, hashed. Two databases with equal dumps hold the same rows, no more, no fewer.
 */
export async function dumpSchema(
  url: string,
  schema: string,
): Promise<Record<string, { rows: number; hash: string }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind = 'r' order by 1`,
      [schema],
    );
    const out: Record<string, { rows: number; hash: string }> = {};
    for (const { name } of tables) {
      const { rows } = await client.query<{ line: string }>(
        `select t::text as line from "${schema}"."${name}" t order by 1`,
      );
      const hash = createHash('sha256');
      for (const r of rows) hash.update(`${r.line}\n`);
      out[name] = { rows: rows.length, hash: hash.digest('hex') };
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Run one query on a database. */
export async function sql<R extends Record<string, unknown> = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}
