import type { Document, ObjectId } from 'bson';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flipPhase } from '../../../src/runtime/cutover/flip-phase.js';
import { domainLockKey } from '../../../src/runtime/cutover/primary-lock.js';
import { setPhase } from '../../../src/runtime/domains.js';
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
  waitFor,
} from './support.js';

describe.skipIf(!servicesReady)('the Mongoose plugin follows the primary across a flip', () => {
  let world: RuntimeWorld;
  let runtime: Runtime;
  let connection: mongoose.Connection;
  let User: mongoose.Model<Document>;

  beforeAll(async () => {
    world = await createRuntimeWorld('goosecut', 30);
    runtime = await startRuntime(world);
    for (const phase of ['shadow_read', 'pg_read'] as const)
      await setPhase(world.pool, 'market', phase, { reason: 'test' });
    await runtime.refresh();
    connection = await mongoose
      .createConnection(mongoUrl()!, { dbName: world.mongo.databaseName, serverSelectionTimeoutMS: 5000 })
      .asPromise();
    const schema = new mongoose.Schema({}, { strict: false, versionKey: false });
    schema.plugin(ferryMongoosePlugin(runtime));
    User = connection.model<Document>('User', schema, 'users');
  }, 600_000);

  afterAll(async () => {
    await connection?.close();
    await runtime?.close();
    await world?.close();
  });

  /** Advisory locks on the domain's key held by any session right now. */
  const domainLocksHeld = async () => {
    const key = BigInt(domainLockKey('market'));
    const { rows } = await world.pool.query<{ n: number }>(
      `select count(*)::int as n from pg_locks where locktype = 'advisory' and granted
          and ((classid::bigint << 32) | objid::bigint) = $1`,
      [BigInt.asUintN(64, key).toString()],
    );
    return rows[0]!.n;
  };

  it('in pg_read mirrors every write and lets the domain lock go after each, so a flip gets it at once', async () => {
    const template = (await world.mongo
      .collection('users')
      .findOne({}, { promoteValues: false })) as Document;
    const { _id: _unused, email: _email, ...fields } = template;
    const userIds = world.ids.get('users') as ObjectId[];
    const created = await User.create({ ...fields, email: 'cutover-goose1@example.com' });
    created.set('name', 'Saved In pg_read');
    await created.save();
    await User.insertMany([{ ...fields, email: 'cutover-goose2@example.com' }]);
    await User.updateOne({ email: 'cutover-goose2@example.com' }, { $set: { name: 'Updated In pg_read' } });
    await User.findByIdAndUpdate(userIds[1], { $set: { name: 'Found And Updated' } });
    await User.deleteOne({ _id: userIds[2] });
    expect(await domainLocksHeld()).toBe(0);
    const result = await verifyWorld(world, ['users']);
    expect(differences(result)).toEqual([]);

    const stores = { mongo: world.mongo, pg: world.pool, plan: world.plan, schema: world.schema };
    const flip = await flipPhase(stores, 'market', 'pg_primary', {
      change: { reason: 'plugin test' },
      lockTimeoutMs: 2000,
    });
    expect(flip.waitMs).toBeLessThan(2000);
  }, 300_000);

  it('refuses save, insertMany and query writes while PostgreSQL is the primary, and MongoDB is left untouched', async () => {
    await waitFor(() => runtime.domainPhase('market') === 'pg_primary', 5000);
    const userIds = world.ids.get('users') as ObjectId[];
    const before = await world.mongo.collection('users').countDocuments();
    const attempts = [
      () => User.create({ email: 'refused-goose@example.com' }),
      () => User.insertMany([{ email: 'refused-goose2@example.com' }]),
      () => User.updateOne({ _id: userIds[3] }, { $set: { name: 'Refused' } }),
      () => User.deleteMany({ _id: { $in: userIds.slice(4, 6) } }),
    ];
    for (const attempt of attempts) {
      const error = await Promise.resolve(attempt()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'CUTOVER_MONGO_WRITE_REFUSED' });
      expect((error as Error).message).toContain('domain "market" is in phase pg_primary');
    }
    expect(await world.mongo.collection('users').countDocuments()).toBe(before);
    expect(await world.mongo.collection('users').countDocuments({ name: 'Refused' })).toBe(0);
    expect(await domainLocksHeld()).toBe(0);
  }, 300_000);
});
