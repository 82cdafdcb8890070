import type { Document, ObjectId } from 'bson';
import mongoose from 'mongoose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entityLockKey } from '../../../src/runtime/entity-copy.js';
import { ferryMongoosePlugin } from '../../../src/runtime/mongoose-plugin.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { mongoUrl, postgresUrl } from '../../support/services.js';
import {
  createRuntimeWorld,
  differences,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  verifyWorld,
  waitFor,
} from './support.js';

describe.skipIf(!servicesReady)('the Mongoose plugin mirrors every write operation', () => {
  let world: RuntimeWorld;
  let runtime: Runtime;
  let connection: mongoose.Connection;
  let User: mongoose.Model<Document>;
  let Chat: mongoose.Model<Document>;
  let Notification: mongoose.Model<Document>;

  beforeAll(async () => {
    world = await createRuntimeWorld('goose', 200);
    runtime = await startRuntime(world);
    connection = await mongoose
      .createConnection(mongoUrl()!, { dbName: world.mongo.databaseName, serverSelectionTimeoutMS: 5000 })
      .asPromise();
    // The app's schemas declare little; strict: false keeps every field as stored.
    const schema = () => {
      const s = new mongoose.Schema({}, { strict: false, versionKey: false });
      s.plugin(ferryMongoosePlugin(runtime));
      return s;
    };
    User = connection.model<Document>('User', schema(), 'users');
    Chat = connection.model<Document>('Chat', schema(), 'chats');
    Notification = connection.model<Document>('Notification', schema(), 'notifications');
  }, 600_000);

  afterAll(async () => {
    await connection?.close();
    await runtime?.close();
    await world?.close();
  });

  it('save, create, insertMany, updates, replaces, upserts and deletes leave both stores equal', async () => {
    const template = (await world.mongo
      .collection('users')
      .findOne({}, { promoteValues: false })) as Document;
    const { _id: _unused, email: _email, ...fields } = template;
    const userIds = world.ids.get('users')! as ObjectId[];
    const chatIds = world.ids.get('chats')! as ObjectId[];

    // create (save underneath), then save after a change
    const created = await User.create({ ...fields, email: 'goose1@example.com' });
    created.set('name', 'Renamed By Save');
    await created.save();
    await User.insertMany([
      { ...fields, email: 'goose2@example.com' },
      { ...fields, email: 'goose3@example.com' },
    ]);
    await User.updateOne({ email: 'goose2@example.com' }, { $set: { name: 'Updated One' } });
    await User.updateMany(
      { email: { $in: ['goose2@example.com', 'goose3@example.com'] } },
      { $inc: { __v: 5 } },
    );
    await User.findOneAndUpdate({ email: 'goose3@example.com' }, { $push: { roles: 'admin' } });
    await User.findByIdAndUpdate(userIds[3], { $set: { 'settings.twoFactor': true } });
    await User.replaceOne({ _id: userIds[4] }, { ...fields, email: 'replaced-by-goose@example.com' });
    await User.updateOne({ email: 'goose-upsert@example.com' }, { $setOnInsert: fields }, { upsert: true });
    // A replacement the mapping can hold (its required fields kept; a document without them
    // would be a reject, accounted in ferry.rejects, not a mirror), with its arrays emptied.
    const chat = (await world.mongo
      .collection('chats')
      .findOne({ _id: chatIds[2] }, { promoteValues: false }))!;
    const { _id: _chatId, ...chatFields } = chat;
    await Chat.findOneAndReplace({ _id: chatIds[2] }, { ...chatFields, participants: [], messages: [] });
    await Chat.findByIdAndDelete(chatIds[3]);
    await Chat.findOneAndDelete({ _id: chatIds[5] });
    await Notification.deleteOne({ kind: 'system' });
    await Notification.deleteMany({ userId: userIds[8] });
    const doomed = await User.findOne({ email: 'goose3@example.com' });
    await doomed!.deleteOne();

    expect(await User.countDocuments({ email: 'goose-upsert@example.com' })).toBe(1);
    const result = await verifyWorld(world);
    expect(differences(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(runtime.stats.gaps).toBe(0);
  }, 300_000);

  it("takes each entity's PostgreSQL lock while MongoDB writes, so no other copier reads the entity between the write and its copy", async () => {
    const users = await world.mongo
      .collection('users')
      .find({ email: { $type: 'string' } })
      .sort({ _id: -1 })
      .limit(3)
      .toArray();
    const [byId, byFilter, bySave] = users.map((u) => u._id as ObjectId) as [ObjectId, ObjectId, ObjectId];
    const email = users[1]!.email as string;
    const saved = (await User.findById(bySave))!;
    saved.set('name', 'Saved While Locked');
    const writes: [ObjectId, () => Promise<unknown>][] = [
      [byId, () => User.updateOne({ _id: byId }, { $set: { name: 'Locked By Id' } }).exec()],
      [byFilter, () => User.findOneAndUpdate({ email }, { $set: { name: 'Locked By Filter' } }).exec()],
      [bySave, () => saved.save()],
    ];
    for (const [id, write] of writes) {
      // FerretDB keeps the collection in a PostgreSQL table: locked, it holds the write back.
      const held = await holdFerretWrites(world.mongo.databaseName, 'users');
      let running: Promise<unknown>;
      try {
        running = write();
        await waitFor(async () => !(await lockFree(world, 'users', id)), 20_000);
      } finally {
        await held.release();
      }
      await running;
      expect(await lockFree(world, 'users', id)).toBe(true);
    }
    const names = await runtime.readDocuments('users', [byId, byFilter, bySave]);
    expect(names.map((d) => d?.name)).toEqual(['Locked By Id', 'Locked By Filter', 'Saved While Locked']);
    expect(differences(await verifyWorld(world, ['users']))).toEqual([]);
  }, 300_000);
});

/** Whether the entity's advisory lock (the one every copier takes) is free right now. */
async function lockFree(world: RuntimeWorld, collection: string, id: unknown): Promise<boolean> {
  const { rows } = await world.pool.query<{ free: boolean }>(
    'select pg_try_advisory_xact_lock($1::bigint) as free',
    [entityLockKey(collection, id)],
  );
  return rows[0]!.free;
}

/** Lock FerretDB's table for a collection against writes (reads go on) until `release`. */
async function holdFerretWrites(database: string, collection: string): Promise<{ release(): Promise<void> }> {
  const url = new URL(postgresUrl()!);
  url.pathname = '/ferretdb';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const { rows } = await client.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = $1 and table_name like $2`,
    [database, `${collection.toLowerCase()}\\_%`],
  );
  expect(rows).toHaveLength(1);
  await client.query('begin');
  await client.query(`lock table "${database}"."${rows[0]!.name}" in exclusive mode`);
  return {
    async release() {
      await client.query('commit');
      await client.end();
    },
  };
}
