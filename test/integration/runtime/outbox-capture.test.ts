import { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid, uuidToObjectId } from '../../../src/mapping/identity.js';
import { setPhase } from '../../../src/runtime/domains.js';
import { enqueueOutbox } from '../../../src/runtime/outbox/queue.js';
import { deliverPendingNow } from '../../../src/runtime/outbox/worker.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { isFerretDb } from '../../../src/sources/mongodb/find-by-ids.js';
import { createOutboxWorld, type OutboxWorld, queueCounts } from './outbox-support.js';
import { differences, servicesReady, verifyWorld } from './support.js';

/** The keys (root key text) queued for a collection, pending. */
async function queuedKeys(world: OutboxWorld, collection: string): Promise<string[]> {
  const { rows } = await world.pool.query<{ doc_key: string }>(
    `select distinct doc_key from ferry.outbox where collection = $1 and status = 'pending' order by 1`,
    [collection],
  );
  return rows.map((r) => r.doc_key);
}

describe.skipIf(!servicesReady)('the outbox captures every change in the writing transaction', () => {
  let world: OutboxWorld;
  let chats: ObjectId[];

  beforeAll(async () => {
    world = await createOutboxWorld('capture', 120);
    // Chats with at least one message and two participants, so child rows can be edited.
    const { rows } = await world.pool.query<{ id: string }>(
      `select c.id::text from chats c
        where exists (select 1 from chats_messages m where m.parent_id = c.id)
          and (select count(*) from chats_participants p where p.parent_id = c.id) >= 2
        order by c.id limit 6`,
    );
    chats = rows.map((r) => uuidToObjectId(r.id));
    expect(chats.length).toBe(6);
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  it('records nothing while the domain is not pg_primary, and an entity once per statement however many of its rows change', async () => {
    const key = objectIdToUuid(chats[0]!);
    await setPhase(world.pool, 'market', 'pg_read', { reason: 'test: capture off' });
    await world.pool.query(`update chats_messages set body = body where parent_id = $1`, [key]);
    expect(await queuedKeys(world, 'chats')).toEqual([]);
    await setPhase(world.pool, 'market', 'pg_primary', { reason: 'test: capture on' });
    await world.pool.query(`update chats_messages set body = body where parent_id = $1`, [key]);
    expect(await queuedKeys(world, 'chats')).toEqual([key]);
    const { rows } = await world.pool.query(
      `select count(*)::int as n from ferry.outbox where doc_key = $1`,
      [key],
    );
    expect(rows[0].n).toBe(1);
  }, 120_000);

  it('records an explicit event with the write it belongs to, and nothing for a transaction rolled back', async () => {
    const db = targetOf(world.pool);
    const where = { plan: world.plan, schema: 'public' };
    const [, , , , kept, dropped] = chats;
    await db.transaction(async (tx) => {
      expect(await enqueueOutbox(tx, where, 'chats', [kept!])).toBe(1);
    });
    await db
      .transaction(async (tx) => {
        await tx.query(`update chats set updated_at = date_trunc('milliseconds', now()) where id = $1`, [
          objectIdToUuid(dropped!),
        ]);
        await enqueueOutbox(tx, where, 'chats', [dropped!]);
        throw new Error('the app changes its mind');
      })
      .catch(() => {});
    const keys = await queuedKeys(world, 'chats');
    expect(keys).toContain(objectIdToUuid(kept!));
    expect(keys).not.toContain(objectIdToUuid(dropped!));
  }, 120_000);

  it('plain SQL inserts, updates of root and child rows, deletes and a separate psql session all reach MongoDB, and verify is clean', async () => {
    const [updatedRoot, editedChild, reshaped, source, deleted] = chats.map(objectIdToUuid);
    const created = new ObjectId();
    const createdKey = objectIdToUuid(created);
    // A root row updated.
    await world.pool.query(`update chats set updated_at = date_trunc('milliseconds', now()) where id = $1`, [
      updatedRoot,
    ]);
    // A child row updated (a message edited), a nested child inserted.
    await world.pool.query(
      `update chats_messages set body = 'edited in SQL' where parent_id = $1 and idx = 0`,
      [editedChild],
    );
    // Child rows deleted and inserted in one transaction (a participant replaced).
    const client = await world.pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `delete from chats_participants where parent_id = $1 and idx = (select max(idx) from chats_participants where parent_id = $1)`,
        [reshaped],
      );
      await client.query(
        `insert into chats_participants (parent_id, idx, value)
         select $1, coalesce(max(idx) + 1, 0), (select value from chats_participants where parent_id = $1 and idx = 0)
           from chats_participants where parent_id = $1`,
        [reshaped],
      );
      await client.query('commit');
    } finally {
      client.release();
    }
    // A new entity: a copy of another chat's rows under a new id.
    await world.pool.query(
      `insert into chats select (jsonb_populate_record(null::chats, to_jsonb(c) || jsonb_build_object('id', $2::text))).*
         from chats c where id = $1`,
      [source, createdKey],
    );
    await world.pool.query(
      `insert into chats_participants select (jsonb_populate_record(null::chats_participants, to_jsonb(p) || jsonb_build_object('parent_id', $2::text))).*
         from chats_participants p where parent_id = $1`,
      [source, createdKey],
    );
    // A root row deleted (its child rows go by cascade).
    await world.pool.query('delete from chats where id = $1', [deleted]);
    // Another session outside the app, as psql would be: its own connection, its own transaction.
    const [notification] = world.ids.get('notifications') as ObjectId[];
    const psql = new pg.Client({ connectionString: world.targetUrl });
    await psql.connect();
    try {
      await psql.query('begin');
      await psql.query(`update notifications set read_at = '2030-01-02T03:04:05.678Z' where id = $1`, [
        objectIdToUuid(notification!),
      ]);
      await psql.query('commit');
    } finally {
      await psql.end();
    }
    expect(differences(await verifyWorld(world, ['chats', 'notifications'])).length).toBeGreaterThan(0);

    const worked = await world.ferry(['outbox', 'work', '--drain', '--json']);
    expect(worked.code, worked.stderr).toBe(0);
    expect(JSON.parse(worked.stdout)).toMatchObject({ pending: 0, deadInQueue: 0 });
    expect(await queueCounts(world)).toEqual({ pending: 0, dead: 0 });
    expect(await world.mongo.collection('chats').findOne({ _id: created })).not.toBeNull();
    expect(await world.mongo.collection('chats').findOne({ _id: chats[4]! })).toBeNull();
    const edited = await world.mongo.collection('chats').findOne({ _id: chats[1]! });
    expect(edited?.messages[0].body).toBe('edited in SQL');
    expect(differences(await verifyWorld(world))).toEqual([]);

    const status = await world.ferry(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const [market] = JSON.parse(status.stdout).runtime.domains;
    expect(market).toMatchObject({
      name: 'market',
      phase: 'pg_primary',
      outbox: { depth: 0, dead: 0, retrying: 0 },
    });
    expect(market.outbox.deliveredPerSecond).toBeGreaterThan(0);
  }, 300_000);

  it('deletes delivered events once they are older than the retention, and keeps the pending ones', async () => {
    await world.pool.query(
      `update notifications set read_at = date_trunc('milliseconds', now()) where id = (select id from notifications order by id desc limit 1)`,
    );
    expect((await world.ferry(['outbox', 'work', '--drain'])).code).toBe(0);
    const { rows: before } = await world.pool.query(
      `select count(*)::int as n from ferry.outbox where status = 'delivered'`,
    );
    expect(before[0].n).toBeGreaterThan(0);
    await world.pool.query(
      `update notifications set read_at = null where id = (select id from notifications order by id limit 1)`,
    );
    // One worker run with a retention of 0 s: its first turn sweeps, then it delivers the new event.
    const swept = await world.ferry(['outbox', 'work', '--drain', '--retention', '0', '--json']);
    expect(swept.code, swept.stderr).toBe(0);
    expect(JSON.parse(swept.stdout)).toMatchObject({ delivered: 1, pending: 0 });
    const { rows } = await world.pool.query(
      `select status, count(*)::int as n from ferry.outbox group by status`,
    );
    expect(rows).toEqual([{ status: 'delivered', n: 1 }]);
  }, 300_000);

  it('ferry schema apply installs the capture triggers on every mapped table', async () => {
    const applied = await world.ferry([
      'schema',
      'apply',
      '--schema',
      'applied',
      '--dir',
      'migrations',
      '--yes',
    ]);
    expect(applied.code, applied.stderr).toBe(0);
    const { rows } = await world.pool.query(
      `select count(*)::int as n from pg_trigger t join pg_class c on c.oid = t.tgrelid
         join pg_namespace s on s.oid = c.relnamespace where s.nspname = 'applied' and t.tgname like 'ferry_capture_%'`,
    );
    const tables = world.plan.collections.reduce((n, c) => n + c.tables.length, 0);
    expect(rows[0].n).toBe(tables * 3);
  }, 300_000);

  it("an application's now() in a mapped date column reaches MongoDB as the millisecond PostgreSQL stored", async () => {
    const { rows } = await world.pool.query<{ id: string }>(
      'select id::text from notifications order by id limit 1',
    );
    const id = rows[0]!.id;
    // The column is timestamptz(3): PostgreSQL rounds the microseconds of now() on write.
    await world.pool.query(`update notifications set read_at = now() where id = $1`, [id]);
    const { rows: stored } = await world.pool.query<{ read_at: Date; micros: number }>(
      `select read_at, extract(microseconds from read_at)::int % 1000 as micros from notifications where id = $1`,
      [id],
    );
    expect(stored[0]!.micros).toBe(0);
    const worked = await world.ferry(['outbox', 'work', '--drain', '--json']);
    expect(worked.code, worked.stderr).toBe(0);
    const delivered = await world.mongo.collection('notifications').findOne({ _id: uuidToObjectId(id) });
    expect(delivered?.readAt).toEqual(stored[0]!.read_at);
    expect(differences(await verifyWorld(world, ['notifications']))).toEqual([]);
  }, 300_000);

  it('an entity whose rows toDoc cannot rebuild (array positions out of sequence) fails alone, without its values in the error', async () => {
    const { rows } = await world.pool.query<{ id: string }>(
      `select c.id::text from chats c
        where exists (select 1 from chats_messages m where m.parent_id = c.id)
          and exists (select 1 from chats_participants p where p.parent_id = c.id)
        order by c.id desc limit 2`,
    );
    const [bad, good] = rows.map((r) => r.id);
    await world.pool.query(`update chats_participants set idx = idx + 1000 where parent_id = $1`, [bad]);
    await world.pool.query(
      `update chats_messages set body = 'still deliverable' where parent_id = $1 and idx = 0`,
      [good],
    );
    const worked = await world.ferry(['outbox', 'work', '--drain', '--max-attempts', '1', '--json']);
    expect(worked.code, worked.stderr).toBe(1);
    expect(JSON.parse(worked.stdout)).toMatchObject({ entities: 1, deadInQueue: 1 });
    const { rows: dead } = await world.pool.query(
      `select doc_key, last_error from ferry.outbox where status = 'dead'`,
    );
    expect(dead).toEqual([{ doc_key: bad, last_error: expect.stringContaining('cannot be rebuilt') }]);
    expect(dead[0].last_error).not.toContain('still deliverable');
    await world.pool.query(`update chats_participants set idx = idx - 1000 where parent_id = $1`, [bad]);
    expect((await world.ferry(['outbox', 'redrive', '--id', bad!])).code).toBe(0);
    expect((await world.ferry(['outbox', 'work', '--drain'])).code).toBe(0);
    expect(await queueCounts(world)).toEqual({ pending: 0, dead: 0 });
    expect(differences(await verifyWorld(world, ['chats']))).toEqual([]);
  }, 300_000);

  it('on FerretDB, an entity delivered before is replaced without trying an insert first, and a new one is inserted without a replacement', async () => {
    const client = await MongoClient.connect(world.sourceUri, { monitorCommands: true });
    const commands: string[] = [];
    client.on('commandStarted', (event) => {
      if (event.commandName === 'insert' || event.commandName === 'update') commands.push(event.commandName);
    });
    try {
      const stores = { mongo: client.db(), pg: world.pool, plan: world.plan, schema: 'public' as const };
      expect(await isFerretDb(stores.mongo)).toBe(true);
      const deliverWatched = async (change: string, id: string): Promise<string[]> => {
        await world.pool.query(change, [id]);
        commands.length = 0;
        expect(await deliverPendingNow(stores, ['notifications'], { leave: 0 })).toBe(1);
        return [...commands];
      };
      const { rows } = await world.pool.query<{ id: string }>(
        'select id::text from notifications order by id desc limit 1',
      );
      const id = rows[0]!.id;
      const touch = `update notifications set read_at = date_trunc('milliseconds', now()) where id = $1`;
      // Not seen yet by this client: the insert finds the _id taken, then the replacement.
      expect(await deliverWatched(touch, id)).toEqual(['insert', 'update']);
      expect(await deliverWatched(touch, id)).toEqual(['update']);
      const created = objectIdToUuid(new ObjectId());
      const copy = `insert into notifications select (jsonb_populate_record(null::notifications, to_jsonb(n) || jsonb_build_object('id', $1::text))).*
         from notifications n where id = '${id}'`;
      expect(await deliverWatched(copy, created)).toEqual(['insert']);
      expect(await deliverWatched(touch, created)).toEqual(['update']);
      expect(await queueCounts(world)).toEqual({ pending: 0, dead: 0 });
      expect(differences(await verifyWorld(world, ['notifications']))).toEqual([]);
    } finally {
      await client.close();
    }
  }, 300_000);
});
