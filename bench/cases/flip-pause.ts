// The flip-pause writer (argv: uri, plan file, rate, writes file): an application writing
// `rate` writes/s to the first 200 users through the public runtime while the parent
// (bench/flip-pause.ts) flips the domain's primary back and forth. Each write is one
// `runtime.withPrimary`: in pg_read a `$inc` of `flipWrites` through the wrapped collection
// (MongoDB, mirrored inline to PostgreSQL), in pg_primary the same increment in PostgreSQL with
// the app's own SQL (the outbox feeds MongoDB). An open loop: each write starts at its slot,
// whatever the earlier ones did, and its latency counts from the slot, so a write that queued
// behind a flip shows the wait. Prints `ready` once warmed up; on SIGTERM stops offering,
// waits for the writes in flight, and writes every write's slot (epoch ms), latency, store and
// outcome to the writes file. The case fails if any write failed.
import { writeFile } from 'node:fs/promises';
import type { ObjectId } from 'bson';
import { objectIdToUuid } from '../../src/mapping/identity.js';
import { primaryKey } from '../../src/mapping/model.js';
import { BENCH_SCHEMA } from '../backfill-db.js';
import { FLIP_BENCH_COLLECTION, type FlipBenchWrite } from '../flip-pause.js';
import { caseReady, reportCase } from '../harness.js';
import { BENCH_DOMAIN, openRuntimeCase } from '../runtime-case.js';

const [uri, planFile, rateText, writesFile] = process.argv.slice(2) as [string, string, string, string];
const rate = Number(rateText);
// The runtime's own lock pool keeps its default size (8): writes beyond it wait for a connection
// without holding the domain lock, so a flip waits for at most 8 writes in flight.
const bench = await openRuntimeCase(uri, planFile, [FLIP_BENCH_COLLECTION], { poolSize: 16 });
const { mongo, runtime, plan } = bench;
const root = plan.collections
  .find((c) => c.name === FLIP_BENCH_COLLECTION)!
  .tables.find((t) => t.parent === undefined)!;
const key = primaryKey(root)[0]!;
const users = runtime.collection(FLIP_BENCH_COLLECTION);
const ids = (
  await mongo
    .collection(FLIP_BENCH_COLLECTION)
    .find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 200 })
    .toArray()
).map((d) => d._id as ObjectId);
const pgWrite = `update "${BENCH_SCHEMA}"."${root.name}"
    set _extra = jsonb_set(coalesce(_extra, '{}'::jsonb), '{flipWrites}',
                           to_jsonb(coalesce((_extra ->> 'flipWrites')::int, 0) + 1))
  where "${key}" = $1::uuid`;

const write = (i: number): Promise<'mongo' | 'pg'> => {
  const id = ids[i % ids.length]!;
  return runtime.withPrimary<'mongo' | 'pg'>(BENCH_DOMAIN, {
    mongo: async () => {
      await users.updateOne({ _id: id }, { $inc: { flipWrites: 1 } });
      return 'mongo';
    },
    pg: async (client) => {
      const { rowCount } = await client.query({
        name: 'flip-write',
        text: pgWrite,
        values: [objectIdToUuid(id)],
      });
      if (rowCount !== 1) throw new Error(`the PostgreSQL write found ${rowCount} rows for one user`);
      return 'pg';
    },
  });
};

try {
  for (let i = 0; i < 50; i++) await write(i);
  let stopping = false;
  process.once('SIGTERM', () => {
    stopping = true;
  });
  caseReady();
  const writes: FlipBenchWrite[] = [];
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let lateStarts = 0;
  for (let i = 0; !stopping; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    else if (wait < -100) lateStarts++;
    if (stopping) break;
    const record: FlipBenchWrite = { slot: performance.timeOrigin + due, ms: 0, store: 'none', ok: true };
    writes.push(record);
    inFlight.push(
      write(i).then(
        (store) => {
          record.ms = performance.now() - due;
          record.store = store;
        },
        (error: unknown) => {
          record.ms = performance.now() - due;
          record.ok = false;
          record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        },
      ),
    );
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  await runtime.flush();
  await writeFile(writesFile, JSON.stringify(writes));
  const failed = writes.filter((w) => !w.ok);
  for (const w of failed.slice(0, 5)) console.error(`flip-pause writer: a write failed: ${w.error}`);
  reportCase({
    docs: writes.length,
    bytes: 0,
    seconds: offeredSeconds,
    extra: {
      failed: failed.length,
      lateStarts,
      mongo: writes.filter((w) => w.store === 'mongo').length,
      pg: writes.filter((w) => w.store === 'pg').length,
      gaps: runtime.stats.gaps,
      warmUpWrites: 50,
    },
  });
} finally {
  await bench.close();
}
