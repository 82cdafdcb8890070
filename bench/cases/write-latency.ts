// The write latency case: `writes` sequential `updateOne`s by `_id` ($set + $inc) per mode on
// the first 600 purchaseRequests by `_id`, the three modes interleaved write by write (bare,
// inline, async, bare, …) so that the load of a shared machine, which swings by several times
// within minutes, falls on all three alike; each mode has its own 200 entities. After 30
// untimed warm-up rounds, each write is timed on its own:
// - `bare`: the official driver's collection;
// - `inline`/`async`: the same collection through Ferry's runtime (`runtime.collection`), its
//   domain in phase dual_write, the mirror copy awaited, or run after the response.
// Prints p50/p95/p99 per mode (ms). The async copies are waited for after the timing, and any
// gap fails the case, so a mirror that dropped work cannot look fast.
import { reportCase } from '../harness.js';
import { latencyExtras, timeInterleaved } from '../latency-modes.js';
import { openRuntimeCase } from '../runtime-case.js';

const [uri, planFile, writesText] = process.argv.slice(2) as [string, string, string];
const writes = Number(writesText);
const COLLECTION = 'purchaseRequests';
const MODES = ['bare', 'inline', 'async'] as const;
const bench = await openRuntimeCase(uri, planFile, [COLLECTION], { mirror: 'inline' });
const { mongo, runtime } = bench;
try {
  if (!runtime.mirrors(COLLECTION))
    throw new Error(
      `the domain of ${COLLECTION} is in phase ${runtime.phase(COLLECTION)}, which does not mirror`,
    );
  const collections = {
    bare: mongo.collection(COLLECTION),
    inline: runtime.collection(COLLECTION),
    async: runtime.collection(COLLECTION, { mirror: 'async' }),
  };
  const ids = (
    await mongo
      .collection(COLLECTION)
      .find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 600 })
      .toArray()
  ).map((d) => d._id);
  const own = Math.floor(ids.length / MODES.length);
  const write = (m: number, i: number) =>
    collections[MODES[m]!].updateOne(
      { _id: ids[m * own + (i % own)] },
      { $set: { benchNote: `write ${i}` }, $inc: { benchWrites: 1 } },
    );
  for (let i = 0; i < 30; i++) for (let m = 0; m < MODES.length; m++) await write(m, i);
  await runtime.flush();
  const { latencies, seconds } = await timeInterleaved(MODES.length, writes, write);
  // The bare writes were not mirrored, by design: copy their entities now, so deep verify
  // afterwards checks that the inline and async modes left nothing behind.
  await runtime.mirror(COLLECTION, ids.slice(0, own), 'updateOne', { mirror: 'inline' });
  const flushStarted = performance.now();
  await runtime.flush();
  const flushSeconds = (performance.now() - flushStarted) / 1000;
  if (runtime.stats.gaps > 0 || runtime.stats.pendingGaps > 0)
    throw new Error(`the mirror recorded ${runtime.stats.gaps} gaps`);
  const extra: Record<string, number> = { flushSeconds: round(flushSeconds), copied: runtime.stats.copied };
  for (const [m, mode] of MODES.entries()) Object.assign(extra, latencyExtras(mode, latencies[m]!, 2));
  reportCase({ docs: writes * MODES.length, bytes: 0, seconds, extra });
} finally {
  await bench.close();
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
