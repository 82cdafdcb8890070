import { cpus, loadavg } from 'node:os';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';
import { modeResult } from './latency-modes.js';
import { enterPhases, expectStoresEqual, runtimeWorld } from './runtime-world.js';

/**
 * Write latency through Ferry against the bare driver, same run, same data (issue 13's
 * targets: inline p95 ≤ 2.5 × bare, async p95 ≤ 1.2 × bare). The marketplace in FerretDB,
 * backfilled into PostgreSQL, its purchaseRequests in a domain set to dual_write; then
 * sequential `updateOne`s by `_id` through (a) the driver, (b) `runtime.collection` with the
 * mirror inline, (c) the same with the mirror async, interleaved in one process. Deep verify of purchaseRequests must be
 * clean afterwards, so the mirrored cases did their whole job.
 */
export async function benchWriteLatency(docs: number, writes: number): Promise<BenchReport> {
  const world = await runtimeWorld('writes', docs);
  try {
    await enterPhases(world, ['purchaseRequests'], ['dual_write'], 'write latency benchmark');
    console.error(`bench: ${writes} writes per mode, bare, inline and async interleaved…`);
    const run = await runCase('cases/write-latency.ts', [world.uri, world.planFile, String(writes)]);
    await expectStoresEqual(world, ['purchaseRequests']);
    return report(docs, writes, run);
  } finally {
    await world.close();
  }
}

function report(docs: number, writes: number, run: CaseResult): BenchReport {
  // One process measured all three modes; each row is one mode's writes and their summed time.
  const mode = (name: string): CaseResult => modeResult(run, name, writes);
  const [bare, inline, async] = [mode('bare'), mode('inline'), mode('async')];
  const a = { name: 'a', result: bare };
  const ms = (c: CaseResult, q: string) => Number(c.extra?.[q] ?? Number.NaN);
  const ratio = (c: CaseResult, q: string) => Math.round((ms(c, q) / ms(bare, q)) * 100) / 100;
  const line = (name: string, c: CaseResult) =>
    `${name}: p50 ${ms(c, 'p50')} ms, p95 ${ms(c, 'p95')} ms, p99 ${ms(c, 'p99')} ms` +
    (c === bare
      ? ' (baseline)'
      : ` = ${ratio(c, 'p50')} / **${ratio(c, 'p95')}** / ${ratio(c, 'p99')} × the bare write`);
  return {
    name: 'write-latency',
    title: 'Write latency through Ferry against the bare driver',
    description: [
      `The generated marketplace (${thousands(docs)} documents, seed 1; Decimal128 money as Int64 cents, since FerretDB v1.24 drops the connection on Decimal128) in FerretDB, backfilled into PostgreSQL, purchaseRequests in a domain in phase dual_write.`,
      `${writes} sequential \`updateOne\` by \`_id\` (\`$set\` + \`$inc\`) per mode, each timed, after 30 untimed warm-up rounds: (a) the official driver's collection, (b) \`runtime.collection()\` with the mirror inline (the copy to PostgreSQL awaited under the entity's lock), (c) the same with \`mirror: 'async'\` (the copy after the response). The modes are interleaved write by write in one process, each on its own 200 purchase requests (embedded item arrays, so each mirror copy rewrites a root row and its child rows), so the swings of a shared machine's load fall on all three alike; the async copies still running compete with the next writes of every mode. Async then waits for its queued copies (untimed) and must have recorded no gap; deep verify of purchaseRequests must be clean afterwards.`,
      "The ratio column compares writes/s (each mode's writes over the sum of its latencies); the latency ratios are in the notes. Peak RSS is the one process's.",
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows: [
      toRow(`(a) bare driver updateOne (${writes} writes)`, bare),
      toRow(`(b) through Ferry, mirror inline (${writes} writes)`, inline, a),
      toRow(`(c) through Ferry, mirror async (${writes} writes)`, async, a),
    ],
    notes: [
      line('(a) bare', bare),
      `${line('(b) inline', inline)} (target p95 ≤ 2.5).`,
      `${line('(c) async', async)} (target p95 ≤ 1.2); its queued copies finished ${run.extra?.flushSeconds ?? '?'} s after the last write.`,
      `Peak RSS of the process running all three modes: ${run.maxRssMb} MB (the Node process only).`,
      `Load average when the run ended: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (above 2 means other work shared the cores).`,
      "FerretDB (which stores documents in PostgreSQL) and the target PostgreSQL share the machine's 2 cores with the benchmark and with other work, so a mirrored write competes with the primary for the same CPU; absolute latencies here are far above an idle machine's, and the ratios are from one run.",
    ],
  };
}
