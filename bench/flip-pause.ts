import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type FlipReport, flipPhase } from '../src/runtime/cutover/flip-phase.js';
import { workOutbox } from '../src/runtime/outbox/worker.js';
import { BENCH_SCHEMA } from './backfill-db.js';
import {
  type BenchReport,
  type CaseResult,
  machine,
  startCase,
  thousands,
  toRow,
  workDir,
} from './harness.js';
import { latencyExtras } from './latency-modes.js';
import { loadAverage } from './load-average.js';
import { BENCH_DOMAIN } from './runtime-case.js';
import { enterPhases, expectStoresEqual, type RuntimeWorld, runtimeWorld } from './runtime-world.js';

/** The collection the flip benchmark's writer writes. */
export const FLIP_BENCH_COLLECTION = 'users';

/** One write of the flip benchmark's writer, as it writes them to its writes file. */
export interface FlipBenchWrite {
  /** The write's slot, epoch ms (the same clock in both processes). */
  readonly slot: number;
  /** From its slot to its acknowledgement (or failure). */
  ms: number;
  store: 'mongo' | 'pg' | 'none';
  ok: boolean;
  error?: string;
}

/**
 * A flip as the benchmark timed it: its report and its pause on the epoch clock. The pause is
 * placed by its own length before the call returned (the audit row's update after the commit
 * takes a few ms more), since the call begins with the drain before the pause, when writes flow.
 */
interface TimedFlip {
  readonly report: FlipReport;
  readonly askedAt: number;
  readonly committedAt: number;
}

/** Writes whose slot is this far from every flip count as steady state. */
const STEADY_MARGIN_MS = 1000;

/**
 * The coherent primary flip's pause under load (issue 15's target: pauseMs p99 ≤ 250 ms at 200
 * writes/s). The marketplace in FerretDB, backfilled into PostgreSQL, its users in a domain in
 * pg_read; a writer process (bench/cases/flip-pause.ts) offers `rate` writes/s through
 * `runtime.withPrimary` while this process flips the domain pg_read → pg_primary → pg_read …,
 * `flips` times each way, `gapMs` apart, with an outbox worker running (as `ferry outbox work`
 * would beside the app). Afterwards every acknowledged write must be in both stores: the
 * written counter's sum in each equals the writes, and deep verify of users is clean.
 */
export async function benchFlipPause(
  docs: number,
  options: { flips: number; rate: number; gapMs: number },
): Promise<BenchReport> {
  const world = await runtimeWorld('flip', docs);
  const pool = new pg.Pool({ connectionString: world.targetUrl, max: 4 });
  pool.on('error', () => {});
  const stopWorker = new AbortController();
  try {
    await enterPhases(
      world,
      [FLIP_BENCH_COLLECTION],
      ['dual_write', 'shadow_read', 'pg_read'],
      'flip benchmark',
    );
    const stores = { mongo: world.mongo, pg: pool, plan: world.plan, schema: BENCH_SCHEMA };
    const worker = workOutbox(stores, { signal: stopWorker.signal, pollMs: 200 });
    const writesFile = path.join(workDir, `flip-pause-writes-${process.pid}.json`);
    const writer = startCase('cases/flip-pause.ts', [
      world.uri,
      world.planFile,
      String(options.rate),
      writesFile,
    ]);
    await writer.ready;
    console.error(
      `bench: ${options.rate} writes/s offered; ${options.flips} flips each way, ${options.gapMs} ms apart…`,
    );
    const flips: TimedFlip[] = [];
    try {
      await sleep(options.gapMs);
      for (let i = 0; i < options.flips * 2; i++) {
        const [from, to] =
          i % 2 === 0 ? (['pg_read', 'pg_primary'] as const) : (['pg_primary', 'pg_read'] as const);
        const report = await flipPhase(stores, BENCH_DOMAIN, to, {
          change: { reason: `flip benchmark: ${from} → ${to}` },
          expectFrom: from,
        });
        const committedAt = epochNow();
        flips.push({ report, askedAt: committedAt - report.pauseMs, committedAt });
        await sleep(options.gapMs);
      }
    } finally {
      writer.stop();
    }
    const run = await writer.result;
    stopWorker.abort();
    const outbox = await worker;
    if (outbox.pending + outbox.deadInQueue > 0)
      throw new Error(`the outbox kept ${outbox.pending} pending and ${outbox.deadInQueue} dead events`);
    const writes = JSON.parse(await readFile(writesFile, 'utf8')) as FlipBenchWrite[];
    await expectEveryWrite(world, pool, writes.length + Number(run.extra?.warmUpWrites ?? 0));
    await expectStoresEqual(world, [FLIP_BENCH_COLLECTION]);
    return report(docs, options, run, flips, writes);
  } finally {
    stopWorker.abort();
    await pool.end();
    await world.close();
  }
}

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Each write adds 1 to a user's `flipWrites`: in both stores the sum must be the writes made. */
async function expectEveryWrite(world: RuntimeWorld, pool: pg.Pool, expected: number): Promise<void> {
  const inMongo = await world.mongo
    .collection(FLIP_BENCH_COLLECTION)
    .find({ flipWrites: { $exists: true } }, { projection: { flipWrites: 1 } })
    .toArray();
  const mongoSum = inMongo.reduce((sum, d) => sum + Number(d.flipWrites), 0);
  const { rows } = await pool.query<{ sum: number }>(
    `select coalesce(sum((_extra ->> 'flipWrites')::int), 0)::int as sum from "${BENCH_SCHEMA}"."${FLIP_BENCH_COLLECTION}"`,
  );
  const pgSum = rows[0]?.sum ?? 0;
  if (mongoSum !== expected || pgSum !== expected)
    throw new Error(`writes made: ${expected}; counted in MongoDB: ${mongoSum}, in PostgreSQL: ${pgSum}`);
}

function report(
  docs: number,
  options: { flips: number; rate: number; gapMs: number },
  run: CaseResult,
  flips: readonly TimedFlip[],
  writes: readonly FlipBenchWrite[],
): BenchReport {
  const direction = (to: string) => flips.filter((f) => f.report.to === to);
  const figures = (values: readonly number[]) => {
    const q = latencyExtras('x', Float64Array.from(values), 1);
    // Differences of rounded figures (the pause less its parts) carry float noise: a tenth of a ms is enough.
    const tenth = (ms: number) => Math.round(ms * 10) / 10;
    return {
      p50: tenth(q['x.p50']!),
      p95: tenth(q['x.p95']!),
      p99: tenth(q['x.p99']!),
      max: tenth(Math.max(...values)),
    };
  };
  const pauses = (list: readonly TimedFlip[]) => figures(list.map((f) => f.report.pauseMs));
  const pauseLine = (name: string, list: readonly TimedFlip[]) => {
    const p = pauses(list);
    const part = (key: 'waitMs' | 'drainMs') => figures(list.map((f) => f.report[key]));
    const rest = figures(list.map((f) => f.report.pauseMs - f.report.waitMs - f.report.drainMs));
    const drained = list.reduce((n, f) => n + f.report.eventsDelivered + f.report.gapsClosed, 0);
    const before = figures(list.map((f) => f.report.beforePause.ms));
    const drainedBefore = list.reduce(
      (n, f) => n + f.report.beforePause.eventsDelivered + f.report.beforePause.gapsClosed,
      0,
    );
    return `${name} (${list.length} flips): pause p50 ${p.p50} ms, p95 ${p.p95} ms, **p99 ${p.p99} ms**, max ${p.max} ms; of which waiting for the writes in flight p50 ${part('waitMs').p50} / max ${part('waitMs').max} ms, draining p50 ${part('drainMs').p50} / max ${part('drainMs').max} ms (${drained} events or gaps in all), recording and committing p50 ${rest.p50} / max ${rest.max} ms. Before each pause, while writes went on, the drain took p50 ${before.p50} / max ${before.max} ms (${drainedBefore} events or gaps in all).`;
  };
  const during = writes.filter((w) => flips.some((f) => w.slot >= f.askedAt && w.slot <= f.committedAt));
  const steady = writes.filter((w) =>
    flips.every((f) => w.slot < f.askedAt - STEADY_MARGIN_MS || w.slot > f.committedAt + STEADY_MARGIN_MS),
  );
  const latency = (list: readonly FlipBenchWrite[]) => figures(list.map((w) => w.ms));
  const writeLine = (name: string, list: readonly FlipBenchWrite[]) => {
    const l = latency(list);
    return `${name} (${list.length} writes): p50 ${l.p50} ms, p99 ${l.p99} ms, max ${Math.round(l.max)} ms`;
  };
  const failed = writes.filter((w) => !w.ok).length;
  const toPrimary = direction('pg_primary');
  const toRead = direction('pg_read');
  const all = pauses(flips);
  const flipRow = (list: readonly TimedFlip[]): CaseResult => ({
    docs: list.length,
    bytes: 0,
    seconds: list.reduce((s, f) => s + f.report.pauseMs, 0) / 1000,
    maxRssMb: 0,
  });
  return {
    name: 'flip-pause',
    title: "The primary flip's pause at 200 writes/s",
    description: [
      `The generated marketplace (${thousands(docs)} documents, seed 1; Decimal128 money as Int64 cents, since FerretDB v1.24 drops the connection on Decimal128) in FerretDB, backfilled into PostgreSQL, ${FLIP_BENCH_COLLECTION} in a domain in phase pg_read.`,
      `A writer process offers ${options.rate} writes/s (an open loop: each write has its slot, and its latency counts from the slot, so a write queued behind a flip shows the wait) to 200 users through \`runtime.withPrimary\`: in pg_read a \`$inc\` through the runtime's wrapped collection (FerretDB, mirrored inline to PostgreSQL), in pg_primary the same increment with the app's own SQL (an outbox worker, as \`ferry outbox work\`, feeds FerretDB). Meanwhile another process flips the domain with \`flipPhase\` (what \`ferry cutover\` and \`ferry rollback\` run) pg_read → pg_primary → pg_read …, ${options.flips} times each way, ${options.gapMs / 1000} s apart.`,
      `A flip's pause runs from asking for the domain lock to the commit (waiting for the writes in flight, draining gaps or the outbox, recording the change). Writes "during a flip" have their slot between a flip's request for the lock and its commit; "steady" writes are over ${STEADY_MARGIN_MS / 1000} s from every flip. Afterwards every acknowledged write must be in both stores (the written counter's sum in each equals the writes made) and deep verify of ${FLIP_BENCH_COLLECTION} must be clean, or the benchmark fails.`,
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows: [
      toRow(`(w) writes offered at ${options.rate}/s (${run.docs} writes, ${failed} failed)`, run),
      toRow(
        `(p) flips pg_read → pg_primary (${toPrimary.length}; docs/s = flips per second of pause)`,
        flipRow(toPrimary),
      ),
      toRow(
        `(r) flips pg_primary → pg_read (${toRead.length}; docs/s = flips per second of pause)`,
        flipRow(toRead),
      ),
    ],
    notes: [
      `All ${flips.length} flips: pause p50 ${all.p50} ms, p95 ${all.p95} ms, **p99 ${all.p99} ms**, max ${all.max} ms (target p99 ≤ 250 ms).`,
      pauseLine('pg_read → pg_primary', toPrimary),
      pauseLine('pg_primary → pg_read', toRead),
      `The slowest pauses: ${[...flips]
        .sort((a, b) => b.report.pauseMs - a.report.pauseMs)
        .slice(0, 3)
        .map(
          ({ report: f }) =>
            `${f.from} → ${f.to} ${f.pauseMs} ms (wait ${f.waitMs}, drain ${f.drainMs} for ${f.eventsDelivered + f.gapsClosed} events or gaps, before the pause ${f.beforePause.ms} ms for ${f.beforePause.eventsDelivered + f.beforePause.gapsClosed})`,
        )
        .join('; ')}.`,
      `Write latency from the slot: ${writeLine('steady', steady)}; ${writeLine('during a flip', during)}.`,
      `Writes: ${run.docs} offered in ${run.seconds.toFixed(0)} s, ${run.extra?.mongo} to MongoDB (pg_read), ${run.extra?.pg} to PostgreSQL (pg_primary), **${failed} failed**, ${run.extra?.lateStarts} started over 100 ms after their slot (the writer falling behind), ${run.extra?.gaps} gaps recorded; every one is in both stores.`,
      `Load average (1, 5, 15 min, as \`uptime\`) when the run ended: ${loadAverage()} on ${cpus().length} cores. FerretDB, the target PostgreSQL, the writer and the flipper share the cores with other work; the figures are from one run.`,
    ],
  };
}
