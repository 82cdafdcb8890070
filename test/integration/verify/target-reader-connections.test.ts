import { Int32 } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import type { Plan } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openSource } from '../../../src/sources/open.js';
import type { Queryable, TargetDatabase } from '../../../src/target/target-database.js';
import { fetchTargetDocuments, readTargetDocuments } from '../../../src/verify/target-reader.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';
import { oid, writeSource } from '../load/support.js';
import { databaseWithSchema } from '../schema/support.js';

/** Orders with two child tables, so a document's rebuild needs more than one child query. */
const plan: Plan = parsePlan(
  planOf(
    collection('orders', [
      table('orders', [objectIdColumn, col('note', ['note'], 'text', 'string')]),
      child('orders_items', 'orders', ['items'], 'array', [col('sku', ['sku'], 'text', 'string')]),
      child('orders_notes', 'orders', ['notes'], 'array', [col('n', ['n'], 'integer', 'int')]),
    ]),
  ),
);

const docs = Array.from({ length: 5 }, (_, i) => ({
  _id: oid(i, 3),
  note: `order ${i}`,
  items: [{ sku: `sku-${i}` }],
  notes: [{ n: new Int32(i) }, { n: new Int32(i + 1) }],
}));

/** The connection as the reader sees it, counting how many of its queries run at once. */
function counted(connection: Queryable): { db: Queryable; maxAtOnce: () => number } {
  let running = 0;
  let max = 0;
  return {
    db: {
      async query(sql, params) {
        running += 1;
        max = Math.max(max, running);
        try {
          return await connection.query(sql, params);
        } finally {
          running -= 1;
        }
      },
    },
    maxAtOnce: () => max,
  };
}

describe.skipIf(!postgresUrl())('reading documents on one connection', () => {
  let db: TargetDatabase;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ db, drop } = await databaseWithSchema('reader_conn', plan));
    const source = await openSource(await writeSource({ orders: docs }));
    try {
      await backfill({ source, target: db, plan, encodeWorkers: { threads: 0 } });
    } finally {
      await source.close();
    }
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('fetches documents inside a transaction with one query at a time, and rebuilds them whole', async () => {
    const where = { plan, collection: 'orders', schema: 'public' };
    const found = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>('select id from public.orders order by id limit 2');
      const connection = counted(tx);
      const read = await fetchTargetDocuments(
        connection.db,
        where,
        rows.map((r) => r.id),
      );
      return { read, maxAtOnce: connection.maxAtOnce() };
    });
    expect(found.maxAtOnce).toBe(1);
    expect(found.read.map((d) => d.doc)).toEqual([docs[0], docs[1]]);
  });

  it('streams a collection on a session with one query at a time', async () => {
    const session = await db.acquire();
    try {
      const connection = counted(session);
      const read = [];
      for await (const page of readTargetDocuments(
        connection.db,
        { plan, collection: 'orders', schema: 'public' },
        { batchSize: 2 },
      ))
        read.push(...page.map((d) => d.doc));
      expect(connection.maxAtOnce()).toBe(1);
      expect(read).toEqual(docs);
    } finally {
      await session.release();
    }
  });
});
