import path from 'node:path';
import type { Plan } from '../src/mapping/model.js';
import { freshDatabase } from './backfill-db.js';
import {
  type BackfillInput,
  marketplaceInput,
  readPlan,
  renderCopyFiles,
  salesInput,
} from './backfill-inputs.js';
import { type BenchReport, type BenchRow, type CaseResult, machine, runCase, toRow } from './harness.js';

export interface BackfillBenchSizes {
  /** Marketplace documents (FERRY_BENCH_DOCS). */
  readonly docs: number;
  /** Replicated sales documents (FERRY_BENCH_SALES). */
  readonly sales: number;
  /** Marketplace documents for the second, RSS-only Ferry run; 0 skips it (FERRY_BENCH_RSS_DOCS). */
  readonly rssDocs: number;
  /** Prefix for the hand-written INSERT loop (FERRY_BENCH_INSERT_DOCS). */
  readonly insertDocs: number;
  /** Also run Ferry with parallel 1 on the multi-collection input (FERRY_BENCH_PARALLEL1=1). */
  readonly parallel1: boolean;
}

interface Named {
  readonly name: string;
  readonly result: CaseResult;
}

/**
 * Backfill throughput on the same inputs in the same run: (a) Ferry's backfill, (b) plain
 * COPY of Ferry's own final rows from pre-rendered files (the ceiling), (c) the per-row
 * INSERT loop users write by hand. Each case gets its own fresh database with the
 * before-load DDL, and ends with the after-load DDL applied (Ferry does it itself).
 */
export async function benchBackfill(salesArchive: string, sizes: BackfillBenchSizes): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const marketplace = await marketplaceInput(sizes.docs);
  const inputs: [BackfillInput, number, string][] = [
    [marketplace, sizes.docs, 'marketplace'],
    [await salesInput(salesArchive, sizes.sales), sizes.sales, 'sales'],
  ];
  let ferryAtN: Named | undefined;
  for (const [input, size, label] of inputs) {
    const tag = `${label} ${thousands(size)}`;
    const manifest = path.join(path.dirname(input.archive), 'copy', 'manifest.json');
    const rendered = await renderCopyFiles(input);
    const plan = await readPlan(input.plan);
    const measure = (name: string, script: string, args: string[]) =>
      inFreshDatabase(`${label}_${path.basename(script, '.ts')}`, plan, async () => {
        console.error(`bench: ${name}…`);
        return { name, result: await runCase(script, args) };
      });
    const copy = await measure(`(b) COPY of pre-rendered rows (${tag})`, 'cases/backfill-copy.ts', [
      manifest,
      input.plan,
      '2',
    ]);
    const ferry = await measure(`(a) Ferry backfill, parallel 2 (${tag})`, 'cases/backfill-ferry.ts', [
      input.archive,
      input.plan,
      '2',
    ]);
    // Parallel only helps with several collections; the sales are one.
    const ferry1 =
      sizes.parallel1 && rendered.collections.length > 1
        ? await measure(`(a) Ferry backfill, parallel 1 (${tag})`, 'cases/backfill-ferry.ts', [
            input.archive,
            input.plan,
            '1',
          ])
        : undefined;
    const insert = await measure(
      `(c) INSERT per row, 100 docs/tx (${label}, first ${thousands(Math.min(sizes.insertDocs, size))})`,
      'cases/backfill-insert.ts',
      [input.archive, input.plan, manifest, String(sizes.insertDocs)],
    );
    rows.push(toRow(copy.name, copy.result));
    // Short ratio labels keep the table readable: b and c are the rows of the same input above.
    const b = { name: 'b', result: copy.result };
    const c = { name: 'c', result: insert.result };
    rows.push(toRow(ferry.name, ferry.result, b, c));
    if (ferry1) rows.push(toRow(ferry1.name, ferry1.result, b, c));
    rows.push(toRow(insert.name, insert.result, b));
    notes.push(
      `${tag}: a/b = ${ratio(ferry, copy)} in docs/s, ${rowRatio(ferry, copy)} in rows/s; a/c = ${ratio(ferry, insert)} in docs/s, ${rowRatio(ferry, insert)} in rows/s (${perDoc(ferry)} rows per document in Ferry's run, ${perDoc(insert)} in the INSERT prefix).`,
    );
    if (label === 'marketplace') ferryAtN = ferry;
  }
  if (sizes.rssDocs > 0 && ferryAtN !== undefined) {
    // Same generator and seed, five times the documents, and the plan inferred at N (inferring
    // again would only re-read gigabytes): the question is only whether memory grows.
    const big = await marketplaceInput(sizes.rssDocs, marketplace);
    const plan = await readPlan(big.plan);
    const name = `(a) Ferry backfill, parallel 2 (marketplace ${thousands(sizes.rssDocs)}, RSS check)`;
    const result = await inFreshDatabase('marketplace_rss', plan, () => {
      console.error(`bench: ${name}…`);
      return runCase('cases/backfill-ferry.ts', [big.archive, big.plan, '2', 'tolerate-after-load']);
    });
    rows.push(toRow(name, result, { name: `a at ${thousands(sizes.docs)}`, result: ferryAtN.result }));
    notes.push(
      `Peak RSS of Ferry's backfill: ${ferryAtN.result.maxRssMb} MB at ${thousands(sizes.docs)} documents, ${result.maxRssMb} MB at ${thousands(sizes.rssDocs)} (same generator and seed, the plan inferred at ${thousands(sizes.docs)}${failedAfterLoad(result)}).`,
    );
  }
  return {
    name: 'backfill',
    title: 'Backfill into PostgreSQL',
    description: [
      "Three ways to load the same documents into the same tables, each in its own fresh database on the local test PostgreSQL (`scripts/services.sh`) with the before-load DDL of the inferred plan applied: (a) Ferry's `backfill()` from the archive with its defaults (chunks of 5000 documents, BSON encoded straight to binary COPY rows on one worker thread after the first three batches, heaviest collections first); (b) the ceiling, `COPY … FROM STDIN` of Ferry's own final rows from one file per table rendered before timing (`toRows` + the COPY text encoder, not timed), two collections at a time like (a); (c) what users write by hand, `toRows` then one parameterised `INSERT … ON CONFLICT DO NOTHING` per row, 100 documents per transaction, one connection.",
      'Inputs: the generated marketplace (seed 1, six collections) and the 5000 real `sample_supplies.sales` replicated with fresh ObjectIds, both as **uncompressed** mongodump archives (no case pays for gzip). The plan is inferred once per input (`inferMapping`) and shared by every case. MB/s counts the BSON bytes of the documents loaded. Ratio a/b and a/c compare documents/s.',
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows,
    notes: [
      "All three cases end with the same after-load DDL (every foreign key, child tables' keys to their parents included, which no case maintains row by row during its load; secondary indexes; `analyze`), timed: Ferry runs it itself, (b) and (c) run `ddlPhases(...).afterLoad` after their last row, so every case finishes with the same database.",
      `(c) runs on a proportional prefix (the first ${thousands(sizes.insertDocs)} documents, split over the collections like the whole input) because the whole input would take hours at its rate; compare its documents/s and rows/s, not its seconds.`,
      "Peak RSS is the Node process of the case only (PostgreSQL's own memory is not in it). PostgreSQL runs on the same 2 cores as the case, and the machine is shared, so absolute figures vary between runs; the ratios are from one run.",
      ...notes,
    ],
  };
}

/**
 * Run `fn` with a fresh database whose URL the case's child process inherits as
 * FERRY_BENCH_TARGET_URL (an environment variable rather than an argument, so the password
 * never shows in a process list or a failed case's message); dropped afterwards.
 */
async function inFreshDatabase<T>(label: string, plan: Plan, fn: () => Promise<T>): Promise<T> {
  const db = await freshDatabase(label, plan);
  process.env.FERRY_BENCH_TARGET_URL = db.url;
  try {
    return await fn();
  } finally {
    delete process.env.FERRY_BENCH_TARGET_URL;
    await db.drop();
  }
}

/** The RSS run tolerates after-load statements of the smaller input's plan that fail. */
function failedAfterLoad(result: CaseResult): string {
  const failed = Number(result.extra?.afterLoadProblems ?? 0);
  return failed === 0
    ? '; every after-load statement of that plan held'
    : `; ${failed} after-load statements of that plan failed on the larger data (a reference foreign key that more dangling references break), so its time lacks them`;
}

function thousands(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
}

function ratio(a: Named, b: Named): number {
  return Math.round((a.result.docs / a.result.seconds / (b.result.docs / b.result.seconds)) * 100) / 100;
}

function rowRatio(a: Named, b: Named): number {
  return (
    Math.round(((a.result.rows ?? 0) / a.result.seconds / ((b.result.rows ?? 0) / b.result.seconds)) * 100) /
    100
  );
}

function perDoc(c: Named): number {
  return Math.round(((c.result.rows ?? 0) / c.result.docs) * 100) / 100;
}
