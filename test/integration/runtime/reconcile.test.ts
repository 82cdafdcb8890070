import type { ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import type { RuntimeStores } from '../../../src/runtime/entity-copy.js';
import { moveMongoGaps, openGaps, recordGaps } from '../../../src/runtime/gaps.js';
import { reconcileGaps, watchGaps } from '../../../src/runtime/reconcile.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import {
  createRuntimeWorld,
  differences,
  type RuntimeWorld,
  servicesReady,
  verifyWorld,
  waitFor,
} from './support.js';

describe.skipIf(!servicesReady)('reconcile closes gaps', () => {
  let world: RuntimeWorld;
  let stores: RuntimeStores;

  beforeAll(async () => {
    world = await createRuntimeWorld('reconcile', 200);
    stores = { mongo: world.mongo, pg: world.pool, plan: world.plan, schema: world.schema };
    await ensureFerryState(targetOf(world.pool));
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  const failure = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

  it('a gap on an entity MongoDB no longer has deletes it from PostgreSQL, and one on a changed entity copies it', async () => {
    const [gone, changed] = world.ids.get('chats')! as ObjectId[];
    await world.mongo.collection('chats').deleteOne({ _id: gone! });
    await world.mongo.collection('chats').updateOne({ _id: changed! }, { $set: { messages: [] } });
    await recordGaps(stores, [
      { collection: 'chats', id: gone, operation: 'deleteOne', error: failure },
      { collection: 'chats', id: changed, operation: 'updateOne', error: failure },
    ]);
    expect(differences(await verifyWorld(world, ['chats'])).length).toBe(2);

    const summary = await reconcileGaps(stores);
    expect(summary).toMatchObject({ seen: 2, closed: 2, open: 0, upserted: 1, deleted: 1 });
    const { rows } = await world.pool.query('select count(*)::int as n from public.chats where id = $1', [
      objectIdToUuid(gone!),
    ]);
    expect(rows[0].n).toBe(0);
    expect(differences(await verifyWorld(world, ['chats']))).toEqual([]);
  }, 120_000);

  it('a gap whose copy fails again stays open, with one more attempt and the new error', async () => {
    const [referenced] = world.ids.get('users')! as ObjectId[];
    // Other collections' rows point at this user: PostgreSQL refuses to delete it.
    await world.mongo.collection('users').deleteOne({ _id: referenced! });
    await recordGaps(stores, [
      { collection: 'users', id: referenced, operation: 'deleteOne', error: failure },
    ]);
    const summary = await reconcileGaps(stores);
    expect(summary.open).toBe(1);
    const [gap] = await openGaps(targetOf(world.pool), 'public', { collection: 'users' });
    expect(gap).toMatchObject({ attempts: 2, errorCode: '23503' });
  }, 120_000);

  it('gaps parked in MongoDB twice for one entity (written twice while PostgreSQL was away) move as one gap, and reconcile closes it', async () => {
    const [, , twice] = world.ids.get('chats')! as ObjectId[];
    await world.mongo.collection('chats').updateOne({ _id: twice! }, { $set: { messages: [] } });
    // PostgreSQL known to be down: both go to MongoDB's ferry_gaps, and are moved in one batch.
    for (const operation of ['updateOne', 'findOneAndUpdate'])
      await recordGaps(stores, [{ collection: 'chats', id: twice, operation, error: failure }], {
        postgresDown: true,
      });
    expect(await moveMongoGaps(stores)).toBe(2);
    const [gap] = await openGaps(targetOf(world.pool), 'public', { collection: 'chats' });
    expect(gap).toMatchObject({ attempts: 2, operation: 'findOneAndUpdate' });
    await reconcileGaps(stores);
    expect(await openGaps(targetOf(world.pool), 'public', { collection: 'chats' })).toEqual([]);
    expect(differences(await verifyWorld(world, ['chats']))).toEqual([]);
  }, 120_000);

  it('reconcile --watch closes a gap recorded while it runs, and stops when told', async () => {
    const stop = new AbortController();
    const passes: unknown[] = [];
    const worker = watchGaps(stores, { intervalMs: 200, signal: stop.signal, onPass: (p) => passes.push(p) });
    const [, , , id] = world.ids.get('chats')! as ObjectId[];
    await world.mongo.collection('chats').updateOne({ _id: id! }, { $set: { messages: [] } });
    await recordGaps(stores, [{ collection: 'chats', id, operation: 'updateOne', error: failure }]);
    await waitFor(
      async () => (await openGaps(targetOf(world.pool), 'public', { collection: 'chats' })).length === 0,
      10_000,
    );
    stop.abort();
    await worker;
    expect(passes.length).toBeGreaterThan(0);
    expect(differences(await verifyWorld(world, ['chats']))).toEqual([]);
  }, 120_000);
});
