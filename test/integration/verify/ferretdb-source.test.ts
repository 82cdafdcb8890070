import { type Document, Double } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openSource } from '../../../src/sources/open.js';
import type { ReconcileCheck } from '../../../src/verify/reconcile-config.js';
import { verify } from '../../../src/verify/verify.js';
import { test as base } from '../../support/fixtures.js';
import { mongoUrl, postgresUrl } from '../../support/services.js';
import { orderDocuments, ordersPlanWith } from './support/orders.js';

/**
 * The eight corruptions again, with a live server (FerretDB) as the source, read in `_id`
 * order. FerretDB v1.24 cannot store Decimal128, so money is a double here, and the
 * NUL-string reject is left out (the file tests cover rejects).
 */
const pgUrl = postgresUrl();
const mongo = mongoUrl();

const plan = parsePlan(ordersPlanWith({ pgType: 'double precision', sourceType: 'double' }));
const docs: Document[] = orderDocuments(1200)
  .slice(0, -1)
  .map((d) => ({
    ...d,
    total: new Double(Number(String(d.total))),
    items: (d.items as Document[]).map((i) => ({ ...i, price: new Double(Number(String(i.price))) })),
  }));
const database = `ferry_verify_${process.pid}_${Date.now().toString(36)}`;
const SCHEMAS = [
  'clean',
  'child_value',
  'round',
  'delete_child',
  'swap',
  'extra_root',
  'nulled',
  'date',
  'extra',
];

/**
 * Orders per customer on each side. (FerretDB v1.24 loses the group key after `$unwind`, so
 * the check stays with what it computes right.)
 */
const checks = (schema: string): ReconcileCheck[] => [
  {
    name: 'orders by customer',
    mongo: { collection: 'orders', pipeline: [{ $group: { _id: '$customer', n: { $sum: 1 } } }] },
    sql: `select customer as _id, count(*) as n from ${schema}.orders group by customer`,
  },
];

/** The test's own database on the FerretDB server. */
function sourceUriOf(server: string): string {
  const u = new URL(server);
  u.pathname = `/${database}`;
  return u.toString();
}
const sourceUri = mongo ? sourceUriOf(mongo) : '';
type Run = (schema: string) => ReturnType<typeof verify>;

const test = base.extend<{ run: Run }>({
  /** Verifies one schema against the FerretDB source, all of them loaded once per file. */
  run: [
    async ({ db }, use) => {
      const source = await openSource(sourceUri);
      try {
        await backfill({ source, target: db, plan, schemas: SCHEMAS });
      } finally {
        await source.close();
      }
      await use(async (schema) => {
        const source = await openSource(sourceUri);
        try {
          return await verify({ source, db, plan, schema, checks: checks(schema), sourceUri });
        } finally {
          await source.close();
        }
      });
    },
    { scope: 'file' },
  ],
});

describe.skipIf(!pgUrl || !mongo)('ferry verify with FerretDB as the source', () => {
  let client: MongoClient;

  beforeAll(async () => {
    client = new MongoClient(mongo!, { serverSelectionTimeoutMS: 5000 });
    await client.db(database).collection<Document>('orders').insertMany(docs);
  }, 600_000);

  afterAll(async () => {
    await client?.db(database).dropDatabase();
    await client?.close();
  });

  const d = docs[40]!;
  const key = objectIdToUuid(d._id);
  const hex: string = d._id.toHexString();

  test('a clean load verifies, and the reconciliation check agrees', async ({ run }) => {
    const result = await run('clean');
    expect(result.collections[0]).toMatchObject({
      sourceCount: 1200,
      targetCount: 1200,
      matched: 1200,
      ok: true,
    });
    expect(result.reconciliation).toEqual([expect.objectContaining({ status: 'ok' })]);
    expect(result.ok).toBe(true);
  });

  test.for<[string, string, string]>([
    [
      'child_value',
      'update child_value.orders_items set qty = qty + 1 where parent_id = $1 and idx = 1',
      'items.1.qty',
    ],
    ['round', 'update round.orders set total = round(total::numeric)::float8 + 0.5 where id = $1', 'total'],
    ['delete_child', 'delete from delete_child.orders_items where parent_id = $1 and idx = 0', 'items'],
    [
      'nulled',
      `update nulled.orders set _extra = coalesce(_extra, '{}') || '{"absent": null}' where id = $1`,
      'absent',
    ],
    ['date', `update date.orders set placed = placed - interval '1 millisecond' where id = $1`, 'placed'],
    [
      'extra',
      `update extra.orders set _extra = jsonb_set(_extra, '{meta,source}', '"x"') where id = $1`,
      'meta.source',
    ],
  ])(
    'corruption %s is a content difference of the right document at the right path',
    async ([schema, sql, path], { db, run }) => {
      await db.query(sql, [key]);
      const result = await run(schema);
      expect(result.ok).toBe(false);
      const [diff, ...rest] = result.collections[0]!.differences;
      expect(rest).toEqual([]);
      expect(diff).toMatchObject({ kind: 'content', id: hex });
      expect(diff!.fields!.map((f) => f.path)).toContain(path);
    },
  );

  test('swapped array elements are content differences in both elements', async ({ db, run }) => {
    for (const [from, to] of [
      [0, -1],
      [1, 0],
      [-1, 1],
    ])
      await db.query('update swap.orders_items set idx = $3 where parent_id = $1 and idx = $2', [
        key,
        from,
        to,
      ]);
    const result = await run('swap');
    expect(result.collections[0]!.differences).toHaveLength(1);
    expect(result.collections[0]!.differences[0]!.fields!.map((f) => f.path)).toEqual(
      expect.arrayContaining(['items.0.sku', 'items.1.sku']),
    );
  });

  test('an extra root row is extra_in_target with its _id, and the reconciliation check disagrees', async ({
    db,
    run,
  }) => {
    await db.query(`insert into extra_root.orders (id, customer) values ($1, 'ghost')`, [
      objectIdToUuid('65f00000000000000000beef'),
    ]);
    const result = await run('extra_root');
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'extra_in_target', id: '65f00000000000000000beef' },
    ]);
    expect(result.reconciliation[0]).toMatchObject({ status: 'mismatch', sourceRows: 97, targetRows: 98 });
    expect(result.ok).toBe(false);
  });
});
