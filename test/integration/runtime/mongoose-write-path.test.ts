import type { Document, ObjectId } from 'bson';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferryMongoosePlugin } from '../../../src/runtime/mongoose-plugin.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { mongoUrl } from '../../support/services.js';
import {
  createRuntimeWorld,
  differences,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  verifyWorld,
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
});
