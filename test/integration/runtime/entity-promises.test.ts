import { type Document, Int32, Long, ObjectId } from 'bson';
import { type Db, MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildSchema,
  copyEntitiesToPostgres,
  createRuntime,
  EntityCopyError,
  type FerryError,
  type RuntimeStores,
} from '../../../src/index.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { setPhase } from '../../../src/runtime/domains.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { ddlPhases } from '../../../src/schema/phases.js';
import { compileStatement } from '../../../src/schema/statements.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { child, col, objectIdColumn, planOf, table } from '../../support/plans.js';
import { createTestDatabase, mongoUrl } from '../../support/services.js';
import { servicesReady } from './support.js';

/**
 * The mapping's per-collection promises, kept by Ferry's own writes (the copier behind the
 * write path, reconcile and sync): `version` refuses a copy older than what PostgreSQL holds,
 * `appendOnly` refuses to change or delete a stored entity. Real FerretDB, real PostgreSQL.
 */
const plan = parsePlan(
  planOf(
    {
      name: 'accounts',
      tables: [
        table('accounts', [
          objectIdColumn,
          col('name', ['name'], 'text', 'string'),
          col('v', ['__v'], 'integer', 'int'),
        ]),
      ],
      version: '__v',
    },
    {
      name: 'ledger',
      tables: [
        table('ledger', [objectIdColumn, col('amount', ['amount'], 'bigint', 'long')]),
        child('ledger_postings', 'ledger', ['postings'], 'array', [
          col('account', ['account'], 'text', 'string'),
        ]),
      ],
      appendOnly: true,
    },
  ),
);

function failureOf(error: unknown): FerryError {
  expect(error).toBeInstanceOf(EntityCopyError);
  const failures = (error as EntityCopyError).failures;
  expect(failures).toHaveLength(1);
  return failures[0]!.error as FerryError;
}

describe.skipIf(!servicesReady)('version and appendOnly in Ferry’s own writes', () => {
  let client: MongoClient;
  let mongo: Db;
  let pool: pg.Pool;
  let drop: () => Promise<void>;
  let stores: RuntimeStores;

  beforeAll(async () => {
    const database = await createTestDatabase('entity_promises');
    drop = database.drop;
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    const { beforeLoad, afterLoad } = ddlPhases(buildSchema(plan));
    for (const statement of [...beforeLoad, ...afterLoad])
      await pool.query(compileStatement(statement, { kind: 'schema', name: 'public' }));
    await ensureFerryState(targetOf(pool));
    client = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
    mongo = client.db(`ferry_promises_${process.pid}_${Date.now().toString(36)}`);
    stores = { mongo, pg: pool, plan, schema: 'public' };
  }, 120_000);

  afterAll(async () => {
    await mongo?.dropDatabase().catch(() => {});
    await client?.close();
    await pool?.end();
    await drop?.();
  });

  it('refuses a copy that carries an older version than PostgreSQL holds, naming the collection and the _id, and leaves the newer row', async () => {
    const id = new ObjectId();
    const accounts = mongo.collection<Document>('accounts');
    await accounts.insertOne({ _id: id, name: 'first', __v: new Int32(1) });
    expect(await copyEntitiesToPostgres(stores, 'accounts', [id])).toEqual({
      upserted: 1,
      deleted: 0,
      rejected: 0,
    });

    // PostgreSQL moved ahead (a writer that bypassed the primary).
    await pool.query(`update public.accounts set v = 3, name = 'newer in postgres'`);
    const error = await copyEntitiesToPostgres(stores, 'accounts', [id]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const conflict = failureOf(error);
    expect(conflict.code).toBe('ENTITY_VERSION_CONFLICT');
    expect(conflict.message).toContain('accounts');
    expect(conflict.message).toContain(id.toHexString());
    expect((await pool.query('select name, v from public.accounts')).rows).toEqual([
      { name: 'newer in postgres', v: 3 },
    ]);

    // The same version, or a newer one, is copied as usual.
    await accounts.updateOne({ _id: id }, { $set: { name: 'caught up', __v: new Int32(3) } });
    expect(await copyEntitiesToPostgres(stores, 'accounts', [id])).toEqual({
      upserted: 1,
      deleted: 0,
      rejected: 0,
    });
    await accounts.updateOne({ _id: id }, { $set: { name: 'moved on' }, $inc: { __v: 1 } });
    await copyEntitiesToPostgres(stores, 'accounts', [id]);
    expect((await pool.query('select name, v from public.accounts')).rows).toEqual([
      { name: 'moved on', v: 4 },
    ]);
  });

  it('the dual-writer records a stale copy as a gap with the conflict code instead of overwriting', async () => {
    const id = new ObjectId();
    const runtime = await createRuntime({
      mongo,
      pg: pool,
      config: { mapping: plan, domains: { money: { collections: ['accounts', 'ledger'] } } },
      pollIntervalMs: 100,
    });
    try {
      await setPhase(pool, 'money', 'dual_write', { reason: 'entity promises test' });
      await runtime.refresh();
      const accounts = runtime.collection('accounts');
      await accounts.insertOne({ _id: id, name: 'dual', __v: new Int32(0) });
      await pool.query(`update public.accounts set v = 9 where name = 'dual'`);
      await accounts.updateOne({ _id: id }, { $set: { name: 'stale for postgres' }, $inc: { __v: 1 } });
      await runtime.flush();
    } finally {
      await runtime.close();
    }
    const gaps = await pool.query<{ error_code: string; doc_id: string }>(
      `select error_code, doc_id from ferry.gaps where collection = 'accounts' and closed_at is null`,
    );
    expect(gaps.rows).toEqual([
      { error_code: 'ENTITY_VERSION_CONFLICT', doc_id: expect.stringContaining(id.toHexString()) },
    ]);
    expect((await pool.query(`select name, v from public.accounts where v = 9`)).rows).toEqual([
      { name: 'dual', v: 9 },
    ]);
  });

  it('copies a new ledger entry, treats a copy of the same state as done, and refuses to change or delete a stored one', async () => {
    const id = new ObjectId();
    const ledger = mongo.collection<Document>('ledger');
    await ledger.insertOne({
      _id: id,
      amount: Long.fromNumber(500),
      postings: [{ account: 'cash' }, { account: 'fees' }],
    });
    expect(await copyEntitiesToPostgres(stores, 'ledger', [id])).toEqual({
      upserted: 1,
      deleted: 0,
      rejected: 0,
    });
    // Reconcile and sync copy again what may already be there: the same state is no change.
    expect(await copyEntitiesToPostgres(stores, 'ledger', [id])).toEqual({
      upserted: 1,
      deleted: 0,
      rejected: 0,
    });

    await ledger.updateOne({ _id: id }, { $set: { amount: Long.fromNumber(501) } });
    const changed = failureOf(await copyEntitiesToPostgres(stores, 'ledger', [id]).catch((e: unknown) => e));
    expect(changed.code).toBe('ENTITY_APPEND_ONLY');
    expect(changed.message).toContain('ledger');
    expect(changed.message).toContain(id.toHexString());

    await ledger.deleteOne({ _id: id });
    const deleted = failureOf(await copyEntitiesToPostgres(stores, 'ledger', [id]).catch((e: unknown) => e));
    expect(deleted.code).toBe('ENTITY_APPEND_ONLY');
    expect((await pool.query('select amount::text from public.ledger')).rows).toEqual([{ amount: '500' }]);
    expect((await pool.query('select count(*)::int as n from public.ledger_postings')).rows).toEqual([
      { n: 2 },
    ]);
  });
});
