import { type Document, ObjectId } from 'bson';
import { type Collection, MongoNotConnectedError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalEqual } from '../../../src/mapping/canonical/index.js';
import { wrapCollection } from '../../../src/runtime/collection-wrapper.js';
import { domainEvents, setPhase } from '../../../src/runtime/domains.js';
import { createRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import {
  createRuntimeWorld,
  differences,
  MARKET_COLLECTIONS,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  verifyWorld,
  waitFor,
} from './support.js';

describe.skipIf(!servicesReady)('the driver wrapper mirrors every write operation', () => {
  let world: RuntimeWorld;
  let runtime: Runtime;

  beforeAll(async () => {
    world = await createRuntimeWorld('wrap', 200);
    runtime = await startRuntime(world, { phase: 'mongo' });
  }, 600_000);

  afterAll(async () => {
    await runtime?.close();
    await world?.close();
  });

  const template = async (name: string) =>
    (await world.mongo.collection(name).findOne({}, { promoteValues: false })) as Document;

  it('in phase mongo a write reaches MongoDB only', async () => {
    expect(runtime.phase('users')).toBe('mongo');
    const users = runtime.collection('users');
    const [id] = world.ids.get('users')!;
    await users.updateOne({ _id: id as ObjectId }, { $set: { name: 'Only In Mongo' } });
    expect((await runtime.readDocument('users', id))?.name).not.toBe('Only In Mongo');
    // Put PostgreSQL back in step for the tests after this one.
    await world.mongo
      .collection('users')
      .updateOne(
        { _id: id as ObjectId },
        { $set: { name: (await runtime.readDocument('users', id))!.name } },
      );
  }, 120_000);

  it('a phase change is audited and followed within a second', async () => {
    const started = Date.now();
    await setPhase(world.pool, 'market', 'dual_write', {
      reason: 'backfill verified',
      actor: 'test',
      figures: { mismatches: 0 },
    });
    await waitFor(() => runtime.phase('users') === 'dual_write', 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    const events = await domainEvents(runtime.stores.pg as never, 'market');
    expect(events.at(-1)).toMatchObject({
      from: 'mongo',
      to: 'dual_write',
      actor: 'test',
      reason: 'backfill verified',
      figures: { mismatches: 0 },
    });
  }, 60_000);

  it('a phase change whose notification is lost is still followed within a second, by polling', async () => {
    // Written behind setPhase's back: no NOTIFY, only the poll can see it.
    await world.pool.query(`update ferry.domains set phase = 'shadow_read' where name = 'market'`);
    await waitFor(() => runtime.phase('users') === 'shadow_read', 1000);
    await setPhase(world.pool, 'market', 'dual_write', { reason: 'back', actor: 'test' });
    await waitFor(() => runtime.phase('users') === 'dual_write', 1000);
  }, 60_000);

  it('a phase change is followed through its notification, long before the next poll', async () => {
    const listening = await createRuntime({
      mongo: world.mongo,
      pg: world.pool,
      config: { mapping: world.plan, domains: { market: { collections: MARKET_COLLECTIONS } } },
      pollIntervalMs: 60_000,
    });
    try {
      await setPhase(world.pool, 'market', 'shadow_read', { reason: 'notify test', actor: 'test' });
      await waitFor(() => listening.phase('users') === 'shadow_read', 1000);
      await setPhase(world.pool, 'market', 'dual_write', { reason: 'back', actor: 'test' });
      await waitFor(() => listening.phase('users') === 'dual_write', 1000);
    } finally {
      await listening.close();
    }
  }, 60_000);

  it('every write operation leaves both stores equal by deep verify', async () => {
    const users = runtime.collection('users');
    const requests = runtime.collection('purchaseRequests');
    const chats = runtime.collection('chats');
    const notifications = runtime.collection('notifications');
    const userIds = world.ids.get('users')! as ObjectId[];
    const requestIds = world.ids.get('purchaseRequests')! as ObjectId[];
    const chatIds = world.ids.get('chats')! as ObjectId[];
    const user = await template('users');

    // insertOne (id assigned by the driver) and insertMany
    const { _id: _unused, email: _email, ...userFields } = user;
    const inserted: Document = { ...userFields, email: 'one@example.com' };
    await users.insertOne(inserted);
    expect(inserted._id?._bsontype).toBe('ObjectId');
    await users.insertMany([
      { ...user, _id: new ObjectId(), email: 'many1@example.com' },
      { ...user, _id: new ObjectId(), email: 'many2@example.com' },
    ]);
    // updateOne by _id and by another field; updateMany over a filter on the field it changes
    await users.updateOne({ _id: userIds[1]! }, { $set: { 'profile.bio': 'hello' }, $inc: { __v: 1 } });
    await users.updateOne({ email: 'one@example.com' }, { $push: { roles: 'seller' } as never });
    await notifications.updateMany(
      { kind: 'promo' },
      { $set: { kind: 'promotion' }, $currentDate: { updatedAt: true } },
    );
    // replaceOne by a non-id filter
    const request = (await world.mongo
      .collection('purchaseRequests')
      .findOne({ _id: requestIds[2]! }, { promoteValues: false }))!;
    await requests.replaceOne(
      { title: request.title, _id: { $in: [requestIds[2]!] } },
      { ...request, items: [], title: 'replaced' },
    );
    // deleteOne (by a filter) and deleteMany
    await notifications.deleteOne({ kind: 'promotion' });
    await notifications.deleteMany({ userId: userIds[5]! });
    // findOneAnd*
    const before = await chats.findOneAndUpdate({ _id: chatIds[1]! }, { $pop: { messages: 1 } as never });
    expect(before?._id).toEqual(chatIds[1]);
    await chats.findOneAndReplace(
      { requestId: (await template('chats')).requestId },
      { ...(await template('chats')), messages: [] },
    );
    const deleted = await chats.findOneAndDelete({ _id: chatIds[4]! });
    expect(deleted).not.toBeNull();
    // upserts, by updateOne and findOneAndUpdate
    const upsertedEmail = 'upserted@example.com';
    await users.updateOne({ email: upsertedEmail }, { $setOnInsert: userFields }, { upsert: true });
    const upsertedByFind = await users.findOneAndUpdate(
      { email: 'upserted2@example.com' },
      { $setOnInsert: userFields },
      { upsert: true, returnDocument: 'after' },
    );
    expect(upsertedByFind?.email).toBe('upserted2@example.com');
    // bulkWrite, one of each kind
    const bulkId = new ObjectId();
    await users.bulkWrite([
      { insertOne: { document: { ...user, _id: bulkId, email: 'bulk@example.com' } } },
      { updateOne: { filter: { email: 'bulk@example.com' }, update: { $set: { name: 'Bulk' } } } },
      { updateMany: { filter: { roles: 'seller' }, update: { $inc: { __v: 1 } } } },
      {
        replaceOne: {
          filter: { _id: userIds[7]! },
          replacement: { ...user, _id: userIds[7]!, email: 'replaced@example.com' },
        },
      },
      { deleteOne: { filter: { email: 'many2@example.com' } } },
      { deleteMany: { filter: { email: { $in: ['nobody@example.com'] } } } },
    ]);

    const result = await verifyWorld(world);
    expect(differences(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(runtime.stats.gaps).toBe(0);
  }, 300_000);

  it('with mirror: async the write returns first, and the copy follows', async () => {
    const users = runtime.collection('users', { mirror: 'async' });
    const [, , id] = world.ids.get('users')! as ObjectId[];
    await users.updateOne({ _id: id! }, { $set: { name: 'Async' } });
    await runtime.flush();
    expect((await runtime.readDocument('users', id))?.name).toBe('Async');
    expect(differences(await verifyWorld(world, ['users']))).toEqual([]);
  }, 120_000);

  it('readDocuments rebuilds documents from PostgreSQL equal to MongoDB’s, in the order asked', async () => {
    const ids = (world.ids.get('purchaseRequests')! as ObjectId[]).slice(10, 15);
    const missing = new ObjectId();
    const fromPg = await runtime.readDocuments('purchaseRequests', [ids[3], missing, ...ids]);
    expect(fromPg[1]).toBeUndefined();
    const fromMongo = await world.mongo
      .collection('purchaseRequests')
      .find({ _id: { $in: ids } }, { promoteValues: false, bsonRegExp: true })
      .toArray();
    for (const doc of fromMongo) {
      const index = ids.findIndex((i) => i.equals(doc._id));
      expect(canonicalEqual(fromPg[index + 2], doc)).toBe(true);
    }
    expect(canonicalEqual(fromPg[0], fromPg[5])).toBe(true);
  }, 120_000);

  it('an inline write takes its entity’s lock while MongoDB writes, and a write that never reaches MongoDB copies nothing and records no gap', async () => {
    if (runtime.phase('users') !== 'dual_write') {
      await setPhase(world.pool, 'market', 'dual_write', { reason: 'test' });
      await runtime.refresh();
    }
    const [, , , id] = world.ids.get('users')! as ObjectId[];
    const advisoryLocks = async () =>
      (
        await world.pool.query(
          `select count(*)::int as n from pg_locks
            where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`,
        )
      ).rows[0].n as number;
    let heldDuringWrite = false;
    const real = world.mongo.collection('users');
    // The driver's collection, observed: before updateOne reaches MongoDB, is the lock held?
    // deleteOne fails as a write that never left the process does.
    const observed = new Proxy(real, {
      get(target, property) {
        if (property === 'updateOne')
          return async (...args: Parameters<Collection['updateOne']>) => {
            heldDuringWrite = await waitFor(async () => (await advisoryLocks()) > 0, 5000).then(
              () => true,
              () => false,
            );
            return target.updateOne(...args);
          };
        if (property === 'deleteOne')
          return async () => {
            throw new MongoNotConnectedError('not connected (test)');
          };
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const users = wrapCollection(runtime, observed, { mirror: 'inline' });
    await users.updateOne({ _id: id }, { $set: { name: 'Locked While Written' } });
    expect(heldDuringWrite).toBe(true);
    expect((await runtime.readDocument('users', id))?.name).toBe('Locked While Written');

    const before = runtime.stats;
    await expect(users.deleteOne({ _id: id })).rejects.toBeInstanceOf(MongoNotConnectedError);
    expect(runtime.stats.gaps).toBe(before.gaps);
    expect(runtime.stats.copied).toBe(before.copied);
    expect(await advisoryLocks()).toBe(0);
    expect(await runtime.readDocument('users', id)).toBeDefined();
  }, 120_000);
});
