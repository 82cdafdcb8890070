import { loadavg } from 'node:os';
import { freshDatabase } from './backfill-db.js';
import { type BackfillInput, marketplaceInput, readPlan, salesInput } from './backfill-inputs.js';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';

/** The sizes of the verify bench: the marketplace, and the replicated sales (0 skips them). */
export interface VerifyBenchSizes {
  readonly docs: number;
  readonly sales: number;
}

/** One input's backfill and verifications, measured on one fresh database. */
interface Measured {
  readonly tag: string;
  readonly backfill: CaseResult;
  readonly deep: CaseResult;
  readonly count?: CaseResult;
}

/**
 * Deep verification against loading, on the same input in the same run (the issue's target:
 * verify/backfill time ≤ 1.0). Per input, one fresh database: Ferry's backfill into it, then
 * `verify` level deep of the same archive against it (and, for the marketplace, level count).
 * Each in its own process, so each peak RSS is its own.
 */
export async function benchVerify(salesArchive: string, sizes: VerifyBenchSizes): Promise<BenchReport> {
  // The machine is shared: its load when the run starts and ends says how far to trust it.
  const loadAtStart = loadavg()[0]!.toFixed(1);
  const market = await measure(
    await marketplaceInput(sizes.docs),
    `marketplace ${thousands(sizes.docs)}`,
    true,
  );
  const sales =
    sizes.sales > 0
      ? await measure(await salesInput(salesArchive, sizes.sales), `sales ${thousands(sizes.sales)}`, false)
      : undefined;
  const timeRatio = (c: CaseResult, of: CaseResult) => Math.round((c.seconds / of.seconds) * 100) / 100;
  const rows = [market, ...(sales ? [sales] : [])].flatMap((m, i) => {
    const letter = i === 0 ? 'a' : 'f';
    const a = { name: letter, result: m.backfill };
    return [
      toRow(`(${letter}) Ferry backfill, parallel 2 (${m.tag})`, m.backfill),
      toRow(`(${i === 0 ? 'd' : 'g'}) verify --level deep (${m.tag})`, m.deep, a),
      ...(m.count ? [toRow(`(e) verify --level count (${m.tag})`, m.count, a)] : []),
    ];
  });
  const ratioNote = (m: Measured) =>
    `${m.tag}: time ratio verify deep / backfill = ${m.deep.seconds.toFixed(1)} s / ${m.backfill.seconds.toFixed(1)} s = **${timeRatio(m.deep, m.backfill)}** (target ≤ 1.0)${m.count ? `; verify count / backfill = ${timeRatio(m.count, m.backfill)}` : ''}.`;
  return {
    name: 'verify',
    title: 'Verify against backfill',
    description: [
      "(a) Ferry's `backfill()` of the generated marketplace (seed 1, six collections, uncompressed mongodump archive, plan inferred once) into a fresh database on the local test PostgreSQL with the before-load DDL applied, parallel 2, after-load DDL included; then, on that same database and archive, (d) `verify()` level deep (every document's canonical hash on both sides, target documents rebuilt by `toDoc` from their rows, id-hash bucket sums) and (e) level count (source count against root rows, child-table counts from the backfill's encoder on a worker thread), each recorded in `ferry.verify_runs` as the CLI does.",
      '(f) and (g): the same backfill and deep verify of the real sales replicated (bench/sales-replica.ts, one collection), in a database of their own.',
      "Verify is given the target's URL, as the CLI gives it, so its target side runs on worker threads. Every verification must report the load complete and identical, or the run fails. The ratio column compares documents/s; the issue's target is on time: verify deep / backfill ≤ 1.0 (see the notes). MB/s counts the BSON bytes read from the archive.",
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows,
    notes: [
      ratioNote(market),
      ...(sales ? [ratioNote(sales)] : []),
      `Load average (1 min) of the ${machine().cpus}-core machine: ${loadAtStart} when the run started, ${loadavg()[0]!.toFixed(1)} when it ended; other processes share the cores, so a busy machine slows whichever case it overlaps.`,
      `Peak RSS: backfill ${market.backfill.maxRssMb} MB, verify deep ${market.deep.maxRssMb} MB, verify count ${market.count?.maxRssMb} MB (${market.tag}; the Node process only; PostgreSQL's memory is not in it).`,
      `Backfill after-load problems: ${market.backfill.extra?.afterLoadProblems ?? 0}${Number(market.backfill.extra?.afterLoadProblems ?? 0) > 0 ? ' (a reference foreign key of the inferred plan the data breaks; the load itself was complete)' : ''}.`,
      `Deep verify seconds per collection (${market.tag}; one collection at a time): ${perCollection(market.deep)}.`,
      "Backfill loads two collections at a time, with BSON encoded on a worker thread. Deep verify checks one collection at a time: the source's BSON is hashed straight from its bytes on a worker thread, and the collection's target documents are read, rebuilt by `toDoc` and hashed on two worker threads, each with its own connection and half of the collection's primary keys. PostgreSQL runs on the same 2 cores, and the machine is shared, so absolute figures vary between runs; the ratios are from one run.",
    ],
  };
}

async function measure(input: BackfillInput, tag: string, withCount: boolean): Promise<Measured> {
  const plan = await readPlan(input.plan);
  const db = await freshDatabase(`verify_${input.label}`, plan);
  process.env.FERRY_BENCH_TARGET_URL = db.url;
  try {
    console.error(`bench: Ferry backfill (${tag})…`);
    // Tolerated, and reported in the notes: an after-load foreign key the data breaks does not
    // change what verify compares (documents), only the backfill's final DDL.
    const backfill = await runCase('cases/backfill-ferry.ts', [
      input.archive,
      input.plan,
      '2',
      'tolerate-after-load',
    ]);
    console.error(`bench: verify --level deep (${tag})…`);
    const deep = await runCase('cases/verify-ferry.ts', [input.archive, input.plan, 'deep']);
    if (!withCount) return { tag, backfill, deep };
    console.error(`bench: verify --level count (${tag})…`);
    const count = await runCase('cases/verify-ferry.ts', [input.archive, input.plan, 'count']);
    return { tag, backfill, deep, count };
  } finally {
    delete process.env.FERRY_BENCH_TARGET_URL;
    await db.drop();
  }
}

function perCollection(c: CaseResult): string {
  return Object.entries(c.extra ?? {})
    .filter(([k]) => k.startsWith('seconds.'))
    .map(([k, v]) => `${k.slice('seconds.'.length)} ${v}`)
    .join(', ');
}
