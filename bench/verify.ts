import { freshDatabase } from './backfill-db.js';
import { marketplaceInput, readPlan } from './backfill-inputs.js';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';

/**
 * Deep verification against loading, on the same input in the same run (the target:
 * verify/backfill time ≤ 1.0). One fresh database: Ferry's backfill of the marketplace into
 * it, then `verify` level deep of the same archive against it, then level count. Each in its
 * own process, so each peak RSS is its own.
 */
export async function benchVerify(docs: number): Promise<BenchReport> {
  const input = await marketplaceInput(docs);
  const plan = await readPlan(input.plan);
  const tag = `marketplace ${thousands(docs)}`;
  const db = await freshDatabase('verify', plan);
  process.env.FERRY_BENCH_TARGET_URL = db.url;
  let backfill: CaseResult;
  let deep: CaseResult;
  let count: CaseResult;
  try {
    console.error(`bench: Ferry backfill (${tag})…`);
    // Tolerated, and reported in the notes: an after-load foreign key the data breaks does not
    // change what verify compares (documents), only the backfill's final DDL.
    backfill = await runCase('cases/backfill-ferry.ts', [
      input.archive,
      input.plan,
      '2',
      'tolerate-after-load',
    ]);
    console.error(`bench: verify --level deep (${tag})…`);
    deep = await runCase('cases/verify-ferry.ts', [input.archive, input.plan, 'deep']);
    console.error(`bench: verify --level count (${tag})…`);
    count = await runCase('cases/verify-ferry.ts', [input.archive, input.plan, 'count']);
  } finally {
    delete process.env.FERRY_BENCH_TARGET_URL;
    await db.drop();
  }
  const a = { name: 'a', result: backfill };
  const timeRatio = (c: CaseResult) => Math.round((c.seconds / backfill.seconds) * 100) / 100;
  return {
    name: 'verify',
    title: 'Verify against backfill',
    description: [
      "(a) Ferry's `backfill()` of the generated marketplace (seed 1, six collections, uncompressed mongodump archive, plan inferred once) into a fresh database on the local test PostgreSQL with the before-load DDL applied, parallel 2, after-load DDL included; then, on that same database and archive, (d) `verify()` level deep (every document's canonical hash on both sides, target documents rebuilt by `toDoc` from their rows, id-hash bucket sums) and (e) level count (source count against root rows, child-table counts from `toRows`), each recorded in `ferry.verify_runs` as the CLI does.",
      "Both verifications must report the load complete and identical, or the run fails. The ratio column compares documents/s; the issue's target is on time: verify deep / backfill ≤ 1.0 (see the notes). MB/s counts the BSON bytes read from the archive.",
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows: [
      toRow(`(a) Ferry backfill, parallel 2 (${tag})`, backfill),
      toRow(`(d) verify --level deep (${tag})`, deep, a),
      toRow(`(e) verify --level count (${tag})`, count, a),
    ],
    notes: [
      `Time ratio verify deep / backfill = ${deep.seconds.toFixed(1)} s / ${backfill.seconds.toFixed(1)} s = **${timeRatio(deep)}** (target ≤ 1.0); verify count / backfill = ${timeRatio(count)}.`,
      `Peak RSS: backfill ${backfill.maxRssMb} MB, verify deep ${deep.maxRssMb} MB, verify count ${count.maxRssMb} MB (the Node process only; PostgreSQL's memory is not in it).`,
      `Backfill after-load problems: ${backfill.extra?.afterLoadProblems ?? 0}${Number(backfill.extra?.afterLoadProblems ?? 0) > 0 ? ' (a reference foreign key of the inferred plan the data breaks; the load itself was complete)' : ''}.`,
      `Deep verify seconds per collection: ${perCollection(deep)}.`,
      'Backfill loads two collections at a time; verify checks one collection at a time, streaming source and target concurrently. PostgreSQL runs on the same 2 cores, and the machine is shared, so absolute figures vary between runs; the ratios are from one run.',
    ],
  };
}

function perCollection(c: CaseResult): string {
  return Object.entries(c.extra ?? {})
    .filter(([k]) => k.startsWith('seconds.'))
    .map(([k, v]) => `${k.slice('seconds.'.length)} ${v}`)
    .join(', ');
}
