import { cpus, loadavg } from 'node:os';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';
import { modeResult } from './latency-modes.js';
import { enterPhases, runtimeWorld } from './runtime-world.js';

/**
 * What a shadow read adds to the request path (issue 15's target: p95 ≤ 1.05 × the bare
 * read), same run, same data: the marketplace in FerretDB, backfilled into PostgreSQL, its
 * purchaseRequests in a domain in phase shadow_read; sequential reads by `_id` through the bare
 * driver and through `runtime.shadowRead`, interleaved in one process.
 */
export async function benchShadowRead(docs: number, reads: number): Promise<BenchReport> {
  const world = await runtimeWorld('shadow', docs);
  try {
    await enterPhases(world, ['purchaseRequests'], ['shadow_read'], 'shadow read benchmark');
    console.error(`bench: ${reads} reads per mode, bare and shadowed interleaved…`);
    const run = await runCase('cases/shadow-read.ts', [world.uri, world.planFile, String(reads)]);
    return report(docs, reads, run);
  } finally {
    await world.close();
  }
}

function report(docs: number, reads: number, run: CaseResult): BenchReport {
  const mode = (name: string): CaseResult => modeResult(run, name, reads);
  const [bare, shadowed] = [mode('bare'), mode('shadowed')];
  const ms = (c: CaseResult, q: string) => Number(c.extra?.[q] ?? Number.NaN);
  const added = (q: string) => Math.round(((ms(shadowed, q) - ms(bare, q)) / ms(bare, q)) * 1000) / 10;
  const line = (name: string, c: CaseResult) =>
    `${name}: p50 ${ms(c, 'p50')} ms, p95 ${ms(c, 'p95')} ms, p99 ${ms(c, 'p99')} ms`;
  const x = run.extra ?? {};
  return {
    name: 'shadow-read',
    title: "Shadow reads: what they add to the request path's latency",
    description: [
      `The generated marketplace (${thousands(docs)} documents, seed 1; Decimal128 money as Int64 cents, since FerretDB v1.24 drops the connection on Decimal128) in FerretDB, backfilled into PostgreSQL, purchaseRequests in a domain in phase shadow_read.`,
      `${reads} sequential \`findOne({ _id })\` per mode on 400 purchase requests (embedded item arrays, so each candidate rebuilds a root row and its child rows through \`toDoc\`), each timed, after 30 untimed warm-up rounds: (a) the official driver's collection, (b) the same read through \`runtime.shadowRead\` with \`{ collection, ids }\` and sample 1, so every read is also read from PostgreSQL and compared canonically off the request path. The modes are interleaved read by read in one process, so the load of a shared machine falls on both alike, and the candidates still running compete with the next reads of both modes.`,
      'Every shadowed read must be counted (matched, timed out or failed) and none may mismatch, or the case fails.',
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows: [
      toRow(`(a) bare driver findOne (${reads} reads)`, bare),
      toRow(`(b) through runtime.shadowRead, every read shadowed (${reads} reads)`, shadowed, {
        name: 'a',
        result: bare,
      }),
    ],
    notes: [
      line('(a) bare', bare),
      line('(b) shadowed', shadowed),
      `Added to the request path by the shadow read: p50 ${added('p50')} %, **p95 ${added('p95')} %**, p99 ${added('p99')} % (target p95 ≤ 5 %).`,
      `Shadow outcomes of the timed reads: ${x.matched} matched, ${x.mismatched} mismatched, ${x.timedOut} timed out, ${x.failed} failed (share of reads shadowed: ${x.shadowedShare}).`,
      `Load average when the run ended: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (above 2 means other work shared the cores).`,
      "FerretDB (which stores documents in PostgreSQL) and the target PostgreSQL share the machine's cores with the benchmark, so the candidate's read competes with the next primary read for the same CPU; the figures are from one run.",
    ],
  };
}
