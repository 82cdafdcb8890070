import { parentPort, workerData } from 'node:worker_threads';
import type { Plan } from '../mapping/model.js';
import { parsePlan } from '../mapping/validate-plan.js';
import { openTarget } from '../target/open-target.js';
import type { TargetDatabase } from '../target/target-database.js';
import { targetHash } from './bucket-scan.js';
import { idHash } from './document-id.js';
import type { TargetHashMessage, TargetHashRequest } from './target-hash-thread.js';
import { readTargetDocuments } from './target-reader.js';

/**
 * The thread of `TargetHashThread`: reads a collection's documents from the target on its own
 * connection, rebuilds each through `toDoc` (target-reader.ts, as the calling thread would)
 * and sends back, page by page, each document's id hash and canonical hash.
 */
const { plan: planData, url } = workerData as { plan: unknown; url: string };
const plan: Plan = parsePlan(planData);
let db: Promise<TargetDatabase> | undefined;

parentPort?.on('message', (request: TargetHashRequest | 'close') => {
  if (request === 'close') {
    void (db ?? Promise.resolve(undefined)).then((d) => d?.close()).finally(() => process.exit(0));
    return;
  }
  void hashCollection(request);
});

async function hashCollection(request: TargetHashRequest): Promise<void> {
  const post = (message: TargetHashMessage, transfer: ArrayBuffer[] = []) =>
    parentPort!.postMessage(message, transfer);
  try {
    db ??= openTarget(url);
    const where = { plan, collection: request.collection, schema: request.schema };
    for await (const docs of readTargetDocuments(await db, where, { batchSize: request.batchSize })) {
      const hashes = new BigUint64Array(docs.length * 2);
      docs.forEach((d, i) => {
        hashes[2 * i] = idHash(d.id);
        hashes[2 * i + 1] = targetHash(d);
      });
      post({ id: request.id, kind: 'page', hashes }, [hashes.buffer as ArrayBuffer]);
    }
    post({ id: request.id, kind: 'done' });
  } catch (error) {
    post({ id: request.id, kind: 'failed', message: (error as Error).message });
  }
}
