import type { Document, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../src/runtime/runtime.js';
import {
  createRuntimeWorld,
  differences,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  verifyWorld,
} from './support.js';

const WRITERS = 8;
const HOT_ENTITIES = 20;
const SECONDS = Number(process.env.FERRY_CONCURRENCY_SECONDS ?? 20);

describe.skipIf(!servicesReady)('concurrent writers on hot entities', () => {
  let world: RuntimeWorld;
  let runtime: Runtime;

  beforeAll(async () => {
    world = await createRuntimeWorld('hot', 200);
    runtime = await startRuntime(world);
  }, 600_000);

  afterAll(async () => {
    await runtime?.close();
    await world?.close();
  });

  it(`${WRITERS} writers with $inc, $push and replaces on ${HOT_ENTITIES} entities for ${SECONDS} s end with both stores equal and no gap`, async () => {
    const requests = runtime.collection('purchaseRequests');
    const hot = (world.ids.get('purchaseRequests')! as ObjectId[]).slice(0, HOT_ENTITIES);
    const templates = new Map<string, Document>();
    for (const doc of await world.mongo
      .collection('purchaseRequests')
      .find({ _id: { $in: hot } }, { promoteValues: false })
      .toArray())
      templates.set(String(doc._id), doc);
    // An item as the app writes them (the mapping requires what every generated item has).
    const item = (templates.values().next().value!.items as Document[])[0]!;
    const deadline = Date.now() + SECONDS * 1000;
    const failures: unknown[] = [];
    let writes = 0;
    const writer = async (seed: number) => {
      let n = seed;
      while (Date.now() < deadline) {
        n = (n * 1103515245 + 12345) % 2 ** 31;
        const id = hot[n % HOT_ENTITIES]!;
        try {
          switch (n % 3) {
            case 0:
              await requests.updateOne({ _id: id }, { $inc: { __v: 1 } });
              break;
            case 1:
              await requests.updateOne({ _id: id }, {
                $push: { items: { ...item, sku: `SKU-${n % 97}` } },
              } as never);
              break;
            default:
              await requests.replaceOne(
                { _id: id },
                { ...templates.get(String(id))!, title: `replaced by ${seed}` },
              );
          }
          writes++;
        } catch (error) {
          failures.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i + 1)));

    expect(failures).toEqual([]);
    expect(writes).toBeGreaterThan(WRITERS);
    const gaps = await world.pool.query('select count(*)::int as n from ferry.gaps where closed_at is null');
    expect(gaps.rows[0].n).toBe(0);
    const result = await verifyWorld(world, ['purchaseRequests']);
    expect(differences(result)).toEqual([]);
    expect(result.ok).toBe(true);
  }, 600_000);
});
