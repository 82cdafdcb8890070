import { workerData } from 'node:worker_threads';
import { servePageStreams } from '../core/serve-page-streams.js';
import type { Plan } from '../mapping/model.js';
import { parsePlan } from '../mapping/validate-plan.js';
import { openPostgresTarget } from '../target/postgres-target.js';
import type { TargetDatabase } from '../target/target-database.js';
import { targetHash } from './bucket-scan.js';
import { idHash } from './document-id.js';
import type { TargetHashRequest } from './target-hash-thread.js';
import { readTargetDocuments } from './target-reader.js';

/**
 * The thread of `TargetHashThread`: reads a collection's documents (or a key range's) from the target on its own
 * connection, rebuilds each through `toDoc` (target-reader.ts, as the calling thread would)
 * and sends back, page by page, each document's id hash and canonical hash.
 */
const { plan: planData, url } = workerData as { plan: unknown; url: string };
const plan: Plan = parsePlan(planData);
// The thread serves a PostgreSQL server only, and imports its driver statically: a dynamic
// import (as openTarget's) does not resolve in a thread running Ferry's TypeScript sources.
let db: Promise<TargetDatabase> | undefined;

servePageStreams(
  async function* (request: TargetHashRequest) {
    db ??= openPostgresTarget(url);
    const where = { plan, collection: request.collection, schema: request.schema };
    const { batchSize, after, until } = request;
    const range = { ...(after !== undefined && { after }), ...(until !== undefined && { until }) };
    for await (const docs of readTargetDocuments(await db, where, { batchSize, ...range })) {
      const hashes = new BigUint64Array(docs.length * 2);
      docs.forEach((d, i) => {
        hashes[2 * i] = idHash(d.id);
        hashes[2 * i + 1] = targetHash(d);
      });
      yield { page: hashes, transfer: [hashes.buffer as ArrayBuffer] };
    }
  },
  async () => {
    await (await db)?.close();
  },
);
