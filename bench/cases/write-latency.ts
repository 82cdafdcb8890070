// One write latency case: `writes` sequential `updateOne` by `_id` ($set + $inc) on
// the first 500 purchaseRequests by `_id` (the same ones in every case, so the mirrored cases
// rewrite every entity the bare case drifted), each timed on its own, after 50 untimed
// warm-up writes:
// - `bare`: the official driver's collection;
// - `inline`/`async`: the same collection through Ferry's runtime (`runtime.collection`), its
//   domain in phase dual_write, the mirror copy inline (awaited) or after the response.
// Prints the p50/p95/p99 latencies (ms); async waits for its queued copies after the timing
// and fails on any gap, so a mirror that dropped work cannot look fast.
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { parseMongoUri } from '../../src/sources/mongodb/uri.js';
import { BENCH_SCHEMA, targetUrl } from '../backfill-db.js';
import { readPlan } from '../backfill-inputs.js';
import { reportCase } from '../harness.js';

const [uri, planFile, mode, writesText] = process.argv.slice(2) as [
  string,
  string,
  'bare' | 'inline' | 'async',
  string,
];
const writes = Number(writesText);
const COLLECTION = 'purchaseRequests';
const plan = await readPlan(planFile);
const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
const mongo = client.db(parseMongoUri(uri).database);
const pool = new pg.Pool({ connectionString: targetUrl(), max: 4 });
pool.on('error', () => {});
let runtime: Runtime | undefined;
try {
  if (mode !== 'bare')
    runtime = await createRuntime({
      mongo,
      pg: pool,
      config: { mapping: plan, domains: { market: { collections: [COLLECTION] } }, schemas: [BENCH_SCHEMA] },
      mirror: mode,
    });
  if (runtime !== undefined && !runtime.mirrors(COLLECTION))
    throw new Error(
      `the domain of ${COLLECTION} is in phase ${runtime.phase(COLLECTION)}, which does not mirror`,
    );
  const collection = runtime?.collection(COLLECTION) ?? mongo.collection(COLLECTION);
  const ids = (
    await mongo
      .collection(COLLECTION)
      .find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 500 })
      .toArray()
  ).map((d) => d._id);
  const write = (i: number) =>
    collection.updateOne(
      { _id: ids[i % ids.length] },
      { $set: { benchNote: `write ${i}` }, $inc: { benchWrites: 1 } },
    );
  for (let i = 0; i < 50; i++) await write(i);
  await runtime?.flush();
  const latencies = new Float64Array(writes);
  const started = performance.now();
  for (let i = 0; i < writes; i++) {
    const t = performance.now();
    await write(i);
    latencies[i] = performance.now() - t;
  }
  const seconds = (performance.now() - started) / 1000;
  const flushStarted = performance.now();
  await runtime?.flush();
  const flushSeconds = (performance.now() - flushStarted) / 1000;
  if (runtime !== undefined && (runtime.stats.gaps > 0 || runtime.stats.pendingGaps > 0))
    throw new Error(`the mirror recorded ${runtime.stats.gaps} gaps`);
  latencies.sort();
  const at = (q: number) => Math.round(latencies[Math.min(writes - 1, Math.floor(q * writes))]! * 100) / 100;
  reportCase({
    docs: writes,
    bytes: 0,
    seconds,
    extra: {
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      flushSeconds: Math.round(flushSeconds * 100) / 100,
      copied: runtime?.stats.copied ?? 0,
    },
  });
} finally {
  await runtime?.close();
  await pool.end();
  await client.close();
}
