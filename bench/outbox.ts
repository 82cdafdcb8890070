import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import type { Plan } from '../src/mapping/model.js';
import { physicalColumns, primaryKey } from '../src/mapping/model.js';
import { MONGO_WRITES_PER_CALL } from '../src/runtime/outbox/deliver.js';
import { BENCH_SCHEMA } from './backfill-db.js';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';
import { enterPhases, runtimeWorld } from './runtime-world.js';

/** The collection the outbox benchmark writes and delivers: a root row and its item rows. */
export const OUTBOX_BENCH_COLLECTION = 'purchaseRequests';

/**
 * The root table of the benchmark's collection, its key column and type, and a text column the
 * single-row write sets to itself (a real UPDATE: a new row version, the triggers fire).
 *
 * @example
 * declare const plan: Plan;
 * const { table, key, column } = rootOf(plan);
 */
export function rootOf(plan: Plan): { table: string; key: string; keyType: string; column: string } {
  const collection = plan.collections.find((c) => c.name === OUTBOX_BENCH_COLLECTION)!;
  const rootTable = collection.tables.find((t) => t.parent === undefined)!;
  const key = primaryKey(rootTable)[0]!;
  const columns = physicalColumns(collection, rootTable);
  const column = columns.find((c) => c.name !== key && c.pgType === 'text')?.name ?? key;
  return { table: rootTable.name, key, keyType: columns.find((c) => c.name === key)!.pgType, column };
}

/**
 * The outbox against its ceiling, same run (issue 14's targets): the capture triggers' cost on
 * a single-row write transaction (≤ +30%), the worker's delivered events/s against bare
 * `bulkWrite`s of the same documents into the same FerretDB (≥ 0.8 ×), and the lag at half the
 * ceiling's rate (p99 < 1 s). Each case in its own process (bench/cases/outbox.ts).
 */
export async function benchOutbox(docs: number, options: { writes: number; seconds: number }) {
  const world = await runtimeWorld('outbox', docs);
  try {
    const root = rootOf(world.plan);
    await enterPhases(world, [OUTBOX_BENCH_COLLECTION], ['pg_primary'], 'outbox benchmark');
    const pool = new pg.Pool({ connectionString: world.targetUrl, max: 2 });
    let entities: number;
    try {
      const t = `"${BENCH_SCHEMA}"."${root.table}"`;
      // The same table without the triggers: same columns, indexes and rows.
      await pool.query(`create table ${t.slice(0, -1)}_plain" (like ${t} including all)`);
      await pool.query(`insert into ${t.slice(0, -1)}_plain" select * from ${t}`);
      await pool.query(`analyze ${t.slice(0, -1)}_plain"; analyze ${t}`);
      const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${t}`);
      entities = rows[0]!.n;
    } finally {
      await pool.end();
    }
    const args = (...rest: (string | number)[]) => [world.uri, world.planFile, ...rest.map(String)];
    console.error(`bench: capture cost, ${options.writes} single-row transactions each way…`);
    const capture = await runCase('cases/outbox.ts', args('capture', options.writes));
    console.error(`bench: the ceiling, bare bulkWrite of ${entities} documents…`);
    const ceiling = await runCase('cases/outbox.ts', args('ceiling', entities, MONGO_WRITES_PER_CALL));
    console.error(`bench: the worker draining ${entities} events…`);
    const drain = await runCase('cases/outbox.ts', args('drain', entities));
    const rate = Math.max(1, Math.floor(ceiling.docs / ceiling.seconds / 2));
    console.error(`bench: ${rate} writes/s offered for ${options.seconds} s with a worker running…`);
    const load = await runCase('cases/outbox.ts', args('load', rate, options.seconds));
    return report(docs, entities, rate, { capture, ceiling, drain, load });
  } finally {
    await world.close();
  }
}

function report(
  docs: number,
  entities: number,
  rate: number,
  cases: { capture: CaseResult; ceiling: CaseResult; drain: CaseResult; load: CaseResult },
): BenchReport {
  const { capture, ceiling, drain, load } = cases;
  const c = { name: 'c', result: ceiling };
  const x = (key: string) => Number(capture.extra?.[key]);
  const overhead = (q: string) => Math.round((x(`captured.${q}`) / x(`plain.${q}`) - 1) * 100);
  const ceilingRate = ceiling.docs / ceiling.seconds;
  const drainRate = drain.docs / drain.seconds;
  const loadAvg = loadavg()[0]!.toFixed(1);
  const transaction = (name: string): CaseResult => ({
    docs: Number(capture.docs) / 2,
    bytes: 0,
    seconds: (x(`${name}.mean`) * (capture.docs / 2)) / 1000,
    maxRssMb: capture.maxRssMb,
  });
  const plain = transaction('plain');
  return {
    name: 'outbox',
    title: 'The outbox: capture cost, delivery against bare bulkWrite, lag',
    description: [
      `The generated marketplace (${thousands(docs)} documents, seed 1; Decimal128 money as Int64 cents, since FerretDB v1.24 drops the connection on Decimal128) in FerretDB, backfilled into PostgreSQL (which installs the capture triggers), ${OUTBOX_BENCH_COLLECTION} (${entities.toLocaleString('en-US')} entities: a root row and item rows each) in a domain in phase pg_primary.`,
      '(p)/(t) the same single-row write transaction (BEGIN, UPDATE by key, COMMIT: three round trips over TCP, a prepared statement) on a copy of the root table without the triggers and on the root table itself, interleaved write by write on one connection; (c) the ceiling: the same documents, rebuilt through toDoc beforehand, written to the same FerretDB by bare `bulkWrite`s of replaceOne upserts, ' +
        String(MONGO_WRITES_PER_CALL) +
        " per call as the worker sends them (FerretDB v1.24 hangs on a bulkWrite of some 50 replaceOnes of existing documents); (w) `workOutbox` draining one event per entity (capture, claim, read through toDoc, bulkWrite, settle); (l) single-row write transactions offered at half the ceiling's rate (an open loop) while a worker runs, then drained.",
      'Rows (p) and (t) count transactions; (c), (w) and (l) count documents or events delivered.',
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows: [
      toRow(`(p) write transaction, no triggers (${capture.docs / 2})`, plain),
      toRow(`(t) write transaction, captured (${capture.docs / 2})`, transaction('captured'), {
        name: 'p',
        result: plain,
      }),
      toRow(`(c) bare bulkWrite, the ceiling (${ceiling.docs})`, ceiling),
      toRow(`(w) worker draining (${drain.docs} events)`, drain, c),
      toRow(`(l) worker at ${rate} writes/s offered (${load.docs} events)`, load, c),
    ],
    notes: [
      `Capture cost: p50 ${x('plain.p50')} → ${x('captured.p50')} ms (**+${overhead('p50')}%**), p95 ${x('plain.p95')} → ${x('captured.p95')} ms (+${overhead('p95')}%), mean ${x('plain.mean')} → ${x('captured.mean')} ms (+${overhead('mean')}%); target ≤ +30%.`,
      `Delivery: the worker drained ${Math.round(drainRate).toLocaleString('en-US')} events/s against the ceiling's ${Math.round(ceilingRate).toLocaleString('en-US')} documents/s = **${(drainRate / ceilingRate).toFixed(2)} ×** (target ≥ 0.8); that is ${(drainRate / 50).toFixed(1)} × the hand-built worker's 50 events/s (the aim: 100 ×, 5,000 events/s, where FerretDB's ceiling allows).`,
      `Lag at ${rate} writes/s offered (half the ceiling) for ${load.extra?.offeredSeconds ?? '?'} s: p50 ${load.extra?.lagP50Ms ?? '?'} ms, **p99 ${load.extra?.lagP99Ms ?? '?'} ms** (target < 1000 ms); writes that started over 100 ms after their slot (the writer falling behind the offered rate): ${load.extra?.lateStarts ?? 0}.`,
      `Load average when the run ended: ${loadAvg} on ${cpus().length} cores (above 2 means other work shared the cores). FerretDB and the target PostgreSQL share the cores with the benchmark; the figures are from one run.`,
    ],
  };
}
