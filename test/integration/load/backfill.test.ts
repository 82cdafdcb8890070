import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { prepareChunk } from '../../../src/load/chunk.js';
import { prepareSchema } from '../../../src/load/schema-setup.js';
import { tableTargets } from '../../../src/load/table-writer.js';
import { writeChunk } from '../../../src/load/write-chunk.js';
import { openSource } from '../../../src/sources/open.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { customers, dumpSchema, orders, plan, referencingPlan, sql, writeSource } from './support.js';

const available = postgresUrl() !== undefined;

describe.skipIf(!available)('backfill into PostgreSQL', () => {
  async function run(db: TargetDatabase, dir: string, options: Partial<Parameters<typeof backfill>[0]> = {}) {
    const source = await openSource(dir);
    try {
      return await backfill({ source, target: db, plan, batchSize: 50, ...options });
    } finally {
      await source.close();
    }
  }

  test('loads every document into root and child tables and the counts add up', async ({
    db,
    pgUrl: url,
  }) => {
    const dir = await writeSource({ customers: customers(10), orders: orders(333) });
    const summary = await run(db, dir, { schemas: ['first'] });
    expect(summary.ok).toBe(true);
    const byName = Object.fromEntries(summary.collections.map((c) => [c.collection, c]));
    expect(byName.orders).toMatchObject({ phase: 'done', read: 333, migrated: 333, rejected: 0 });
    expect(byName.customers).toMatchObject({ phase: 'done', read: 10, migrated: 10, rejected: 0 });
    const items = orders(333).reduce((n, d) => n + (d.items as unknown[]).length, 0);
    expect(byName.orders?.rows).toEqual({ orders: 333, orders_items: items });
    const [counts] = await sql<{ o: string; i: string }>(
      url,
      'select (select count(*) from first.orders) as o, (select count(*) from first.orders_items) as i',
    );
    expect(counts).toEqual({ o: '333', i: String(items) });
    const [checkpoint] = await sql(
      url,
      `select read, migrated, rejected, complete from ferry.checkpoints where schema = 'first' and collection = 'orders'`,
    );
    expect(checkpoint).toEqual({ read: '333', migrated: '333', rejected: '0', complete: true });
  });

  test('writes nothing on a second run with no changes, and says so', async ({ db, pgUrl: url }) => {
    const dir = await writeSource({ customers: customers(10), orders: orders(120) });
    await run(db, dir, { schemas: ['again'] });
    const before = await dumpSchema(url, 'again');
    const second = await run(db, dir, { schemas: ['again'] });
    expect(second.wroteNothing).toBe(true);
    expect(second.collections.every((c) => c.phase === 'up-to-date')).toBe(true);
    expect(await dumpSchema(url, 'again')).toEqual(before);
  });

  test('re-loads into tables that already hold the rows through staging, writing no row twice', async ({
    db,
    pgUrl: url,
  }) => {
    const dir = await writeSource({ customers: customers(10), orders: orders(120) });
    await run(db, dir, { schemas: ['rerun'] });
    const before = await dumpSchema(url, 'rerun');
    // Forget the checkpoints: the rows are there, but Ferry no longer knows how far it got.
    await sql(url, `delete from ferry.checkpoints where schema = 'rerun'`);
    const again = await run(db, dir, { schemas: ['rerun'] });
    expect(again.collections.find((c) => c.collection === 'orders')).toMatchObject({
      phase: 'done',
      read: 120,
      migrated: 120,
      rows: { orders: 0, orders_items: 0 },
    });
    expect(again.wroteNothing).toBe(true);
    expect(await dumpSchema(url, 'rerun')).toEqual(before);
  });

  test('rejects the one document that breaks a constraint at load time and loads the rest of its chunk', async ({
    db,
    pgUrl: url,
  }) => {
    const docs = orders(200);
    docs[77] = { ...docs[77], qty: -5 } as (typeof docs)[number];
    const dir = await writeSource({ customers: customers(10), orders: docs });
    await prepareSchema(db, plan, 'checked', ['orders', 'customers']);
    await sql(url, 'alter table checked.orders add constraint qty_not_negative check (qty >= 0)');
    const summary = await run(db, dir, { schemas: ['checked'], batchSize: 100, only: ['orders'] });
    const result = summary.collections[0]!;
    expect(result).toMatchObject({ phase: 'done', read: 200, migrated: 199, rejected: 1 });
    expect(result.rejectSamples).toHaveLength(1);
    expect(result.rejectSamples[0]).toMatchObject({ stage: 'load', code: 'LOAD_CONSTRAINT_VIOLATION' });
    expect(result.rejectSamples[0]!.reason).toContain('qty_not_negative');
    const [row] = await sql<{ n: string }>(url, 'select count(*) as n from checked.orders');
    expect(row?.n).toBe('199');
    const rejects = await sql<{ doc_id: string; stage: string; raw: string; raw_encoding: string }>(
      url,
      `select doc_id, stage, raw, raw_encoding from ferry.rejects where schema = 'checked'`,
    );
    expect(rejects).toHaveLength(1);
    expect(rejects[0]!.doc_id).toBe(JSON.stringify({ $oid: (docs[77]!._id as ObjectId).toHexString() }));
    expect(rejects[0]!.raw).toContain('"qty":{"$numberInt":"-5"}');
  });

  test('rejects documents the mapping cannot store with stage transform and keeps the raw document', async ({
    db,
    pgUrl: url,
  }) => {
    const docs = orders(30);
    docs[3] = { ...docs[3], note: 'nul\u0000inside' } as (typeof docs)[number];
    const dir = await writeSource({ customers: customers(10), orders: docs });
    const summary = await run(db, dir, { schemas: ['transformed'], only: ['orders'] });
    expect(summary.collections[0]).toMatchObject({ read: 30, migrated: 29, rejected: 1 });
    const [reject] = await sql<{ stage: string; code: string; path: string }>(
      url,
      `select stage, code, path from ferry.rejects where schema = 'transformed'`,
    );
    expect(reject).toEqual({ stage: 'transform', code: 'STRING_CONTAINS_NUL', path: 'note' });
  });

  test('loads the same data into two schemas in one run', async ({ db, pgUrl: url }) => {
    const dir = await writeSource({ customers: customers(10), orders: orders(90) });
    const summary = await run(db, dir, { schemas: ['one', 'two'] });
    expect(summary.collections.map((c) => `${c.collection}@${c.schema}:${c.migrated}`)).toEqual([
      'customers@one:10',
      'customers@two:10',
      'orders@one:90',
      'orders@two:90',
    ]);
    expect(await dumpSchema(url, 'one')).toEqual(await dumpSchema(url, 'two'));
  });

  test('creates the reference foreign keys and secondary indexes after the load', async ({
    db,
    pgUrl: url,
  }) => {
    const dir = await writeSource({ customers: customers(10), orders: orders(40) });
    const source = await openSource(dir);
    const summary = await backfill({ source, target: db, plan: referencingPlan, schemas: ['refs'] });
    await source.close();
    expect(summary.afterLoad.problems).toEqual([]);
    const constraints = await sql<{ conname: string }>(
      url,
      `select conname from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = 'refs' and contype = 'f' order by 1`,
    );
    expect(constraints.map((c) => c.conname)).toEqual(['orders_customer_fkey', 'orders_items_parent_fkey']);
    const indexes = await sql<{ indexname: string }>(
      url,
      `select indexname from pg_indexes where schemaname = 'refs' and indexname not like '%pkey'`,
    );
    expect(indexes).toHaveLength(1);
  });

  test('truncates and reloads with force', async ({ db, pgUrl: url }) => {
    const dir = await writeSource({ customers: customers(10), orders: orders(50) });
    await run(db, dir, { schemas: ['forced'] });
    await sql(
      url,
      `insert into forced.customers (id, name) values ('00000000-0000-0000-0000-000000000001', 'stray')`,
    );
    const summary = await run(db, dir, { schemas: ['forced'], force: true });
    expect(summary.collections.find((c) => c.collection === 'customers')).toMatchObject({
      read: 10,
      migrated: 10,
      rows: { customers: 10 },
    });
    const [row] = await sql<{ n: string }>(url, 'select count(*) as n from forced.customers');
    expect(row?.n).toBe('10');
  });

  test('finds a bad row among 256 documents of one chunk in O(log n) writes', async ({ db, pgUrl: url }) => {
    const docs = orders(256);
    docs[200] = { ...docs[200], qty: new Int32(-1) } as (typeof docs)[number];
    await prepareSchema(db, plan, 'bisect', ['orders']);
    await sql(url, 'alter table bisect.orders add constraint qty_not_negative check (qty >= 0)');
    const chunk = prepareChunk(plan, {
      collection: 'orders',
      docs,
      rejects: [],
      position: { kind: 'offset', offset: 1, index: 256 },
      bytes: 1,
    });
    await ensureFerryState(db);
    const target = {
      schema: 'bisect',
      collection: 'orders',
      tables: tableTargets(plan.collections[1]!, 'bisect'),
      mode: 'copy' as const,
      runId: undefined,
    };
    const result = await db.transaction((tx) => writeChunk(tx, target, chunk));
    expect(result).toMatchObject({ migrated: 255, rejected: 1 });
    // The whole chunk, then two halves per level down to the one document: 1 + 2·log2(256).
    expect(result.writes).toBe(17);
  });

  test('writes nothing with --dry-run, even given a target', async ({ db, pgUrl: url }) => {
    const dir = await writeSource({ customers: customers(3), orders: orders(20) });
    const [before] = await sql<{ n: string }>(url, 'select count(*) as n from ferry.runs');
    await run(db, dir, { schemas: ['dry'], dryRun: true });
    const [after] = await sql<{ n: string }>(url, 'select count(*) as n from ferry.runs');
    expect(after).toEqual(before);
    const [schema] = await sql(url, `select to_regnamespace('dry') as oid`);
    expect(schema).toEqual({ oid: null });
    const checkpoints = await sql(url, `select * from ferry.checkpoints where schema = 'dry'`);
    expect(checkpoints).toEqual([]);
  });

  test('stops and reports when more documents are rejected than --max-rejects allows', async ({ db }) => {
    const docs = orders(300).map((d, i) => (i % 10 === 0 ? { ...d, note: 'bad\u0000' } : d));
    const dir = await writeSource({ customers: customers(10), orders: docs });
    const summary = await run(db, dir, { schemas: ['limited'], only: ['orders'], maxRejects: 5 });
    expect(summary.rejectsOverLimit).toBe(true);
    expect(summary.ok).toBe(false);
    const orderSummary = summary.collections[0]!;
    expect(orderSummary.phase).toBe('stopped');
    expect(orderSummary.migrated + orderSummary.rejected).toBe(orderSummary.read);
    expect(orderSummary.read).toBeLessThan(300);
  });
});

describe('backfill into the embedded PGlite target', () => {
  it('loads, rejects and checkpoints the same way as on PostgreSQL', async () => {
    const docs = orders(120);
    docs[9] = { ...docs[9], note: 'nul\u0000' } as (typeof docs)[number];
    const dir = await writeSource({ customers: customers(10), orders: docs });
    const embeddedDir = await mkdtemp(path.join(tmpdir(), 'ferry-pglite-'));
    const db = await openTarget(undefined, { embeddedDir });
    const source = await openSource(dir);
    try {
      const summary = await backfill({ source, target: db, plan, batchSize: 50, maxRejects: 1 });
      expect(summary).toMatchObject({ ok: true, rejected: 1, rejectsTolerated: 1 });
      expect(summary.collections.find((c) => c.collection === 'orders')).toMatchObject({
        read: 120,
        migrated: 119,
        rejected: 1,
      });
      const again = await backfill({ source, target: db, plan, batchSize: 50 });
      expect(again.wroteNothing).toBe(true);
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from public.orders_items');
      expect(rows[0]?.n).toBe(docs.reduce((n, d, i) => n + (i === 9 ? 0 : (d.items as unknown[]).length), 0));
    } finally {
      await source.close();
      await db.close();
    }
  });
});

describe('backfill --dry-run', () => {
  it('transforms everything, reports counts and rejects, and needs no database', async () => {
    const docs = orders(60);
    docs[5] = { ...docs[5], note: 'x\u0000' } as (typeof docs)[number];
    docs[6] = { _id: new ObjectId(), note: 'no problem' };
    const dir = await writeSource({ customers: customers(3), orders: docs });
    const source = await openSource(dir);
    const summary = await backfill({ source, plan, dryRun: true, schemas: ['app'] });
    await source.close();
    const o = summary.collections.find((c) => c.collection === 'orders')!;
    expect(o).toMatchObject({ phase: 'dry-run', read: 60, migrated: 59, rejected: 1 });
    expect(o.rejectSamples[0]).toMatchObject({ stage: 'transform', code: 'STRING_CONTAINS_NUL' });
    expect(summary.runId).toBeUndefined();
  });
});
