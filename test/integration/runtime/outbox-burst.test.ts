import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { primaryKey } from '../../../src/mapping/model.js';
import { MONGO_WRITES_PER_CALL } from '../../../src/runtime/outbox/deliver.js';
import { workOutbox } from '../../../src/runtime/outbox/worker.js';
import { createOutboxWorld, type OutboxWorld, queueCounts } from './outbox-support.js';
import { differences, servicesReady, verifyWorld } from './support.js';

describe.skipIf(!servicesReady)('the outbox worker on a burst of changes to existing documents', () => {
  let world: OutboxWorld;

  beforeAll(async () => {
    world = await createOutboxWorld('burst', 600);
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  it('delivers a whole default batch of replaced documents to FerretDB without hanging it', async () => {
    // The collection with the most documents, every one of them already in MongoDB: one
    // UPDATE of all its root rows queues them all, and the worker claims them in one batch.
    const [collection, ids] = [...world.ids].sort((a, b) => b[1].length - a[1].length)[0]!;
    // FerretDB v1.24 hung on a bulkWrite of some 50 replaceOnes of existing documents.
    expect(ids.length).toBeGreaterThan(3 * MONGO_WRITES_PER_CALL + 50);
    const root = world.plan.collections.find((c) => c.name === collection)!.tables.find((t) => !t.parent)!;
    const key = primaryKey(root)[0]!;
    await world.pool.query(`update "${root.name}" set "${key}" = "${key}"`);
    expect((await queueCounts(world)).pending).toBe(ids.length);

    let batches = 0;
    const drained = workOutbox(
      { mongo: world.mongo, pg: world.pool, plan: world.plan, schema: 'public' },
      { drain: true, onBatch: (r) => void (r.kind === 'delivered' && batches++) },
    );
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 180_000).unref());
    const summary = await Promise.race([drained, hung]);
    expect(summary).not.toBe('hung');
    expect(summary).toMatchObject({ entities: ids.length, pending: 0, deadInQueue: 0 });
    expect(batches).toBe(1);
    // FerretDB still answers, and holds exactly what PostgreSQL holds.
    expect(await world.mongo.collection(collection).countDocuments()).toBe(ids.length);
    expect(differences(await verifyWorld(world, [collection]))).toEqual([]);
  }, 600_000);
});
