// The shadow read case: `reads` sequential reads by `_id` per mode of purchaseRequests (embedded
// item arrays, so PostgreSQL's answer is rebuilt from a root row and its child rows), the two
// modes interleaved read by read (bare, shadowed, bare, …) so the swings of a shared machine's
// load fall on both alike; each read timed on its own, after 30 untimed warm-up rounds:
// - `bare`: the official driver's `findOne({ _id })`;
// - `shadowed`: the same read through `runtime.shadowRead` (domain in phase shadow_read,
//   sample 1: every read shadowed), PostgreSQL's answer read and compared off the request path.
// Prints p50/p95/p99 per mode (ms) and the shadow outcomes; a mismatch, or fewer shadowed reads
// counted than made, fails the case, so a shadow that skipped its work cannot look cheap.
import { reportCase } from '../harness.js';
import { latencyExtras, timeInterleaved } from '../latency-modes.js';
import { BENCH_DOMAIN, openRuntimeCase } from '../runtime-case.js';

const [uri, planFile, readsText] = process.argv.slice(2) as [string, string, string];
const reads = Number(readsText);
const COLLECTION = 'purchaseRequests';
const MODES = ['bare', 'shadowed'] as const;
const bench = await openRuntimeCase(uri, planFile, [COLLECTION], { shadow: { sample: 1 } });
const { mongo, runtime } = bench;
try {
  if (runtime.phase(COLLECTION) !== 'shadow_read')
    throw new Error(`the domain of ${COLLECTION} is in phase ${runtime.phase(COLLECTION)}, not shadow_read`);
  const plain = mongo.collection(COLLECTION);
  const ids = (await plain.find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 400 }).toArray()).map(
    (d) => d._id,
  );
  const read = (m: number, i: number) => {
    const id = ids[i % ids.length];
    if (MODES[m] === 'bare') return plain.findOne({ _id: id });
    return runtime.shadowRead(BENCH_DOMAIN, {
      collection: COLLECTION,
      ids: [id],
      primary: () => plain.findOne({ _id: id }),
    });
  };
  for (let i = 0; i < 30; i++) for (let m = 0; m < MODES.length; m++) await read(m, i);
  await runtime.flush();
  const before = runtime.shadowStats.find((s) => s.collection === COLLECTION);
  const { latencies, seconds } = await timeInterleaved(MODES.length, reads, read);
  await runtime.flush();
  const after = runtime.shadowStats.find((s) => s.collection === COLLECTION);
  const delta = (key: 'matched' | 'mismatched' | 'timedOut' | 'failed') =>
    (after?.[key] ?? 0) - (before?.[key] ?? 0);
  const outcomes = {
    matched: delta('matched'),
    mismatched: delta('mismatched'),
    timedOut: delta('timedOut'),
    failed: delta('failed'),
  };
  if (outcomes.mismatched > 0) throw new Error(`${outcomes.mismatched} shadow reads mismatched`);
  const counted = outcomes.matched + outcomes.timedOut + outcomes.failed;
  const extra: Record<string, number> = {
    ...outcomes,
    shadowedShare: Math.round((counted / reads) * 1000) / 1000,
  };
  for (const [m, mode] of MODES.entries()) Object.assign(extra, latencyExtras(mode, latencies[m]!, 3));
  reportCase({ docs: reads * MODES.length, bytes: 0, seconds, extra });
} finally {
  await bench.close();
}
