import { cpus, loadavg } from 'node:os';
import { freshDatabase } from './backfill-db.js';
import { marketplaceInput, readPlan } from './backfill-inputs.js';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';

/**
 * Export against loading, on the same input in the same run (the target: export
 * docs/s ≥ 1.0 × the backfill's). One fresh database: Ferry's backfill of the marketplace,
 * then `exportDocuments` of it as an archive and as Extended JSON, each in its own process.
 */
export async function benchExport(docs: number): Promise<BenchReport> {
  const input = await marketplaceInput(docs);
  const plan = await readPlan(input.plan);
  const tag = `marketplace ${thousands(docs)}`;
  const db = await freshDatabase('export', plan);
  process.env.FERRY_BENCH_TARGET_URL = db.url;
  let backfill: CaseResult;
  let archive: CaseResult;
  let ejson: CaseResult;
  try {
    console.error(`bench: Ferry backfill (${tag})…`);
    backfill = await runCase('cases/backfill-ferry.ts', [
      input.archive,
      input.plan,
      '2',
      'tolerate-after-load',
    ]);
    console.error(`bench: export --format archive (${tag})…`);
    archive = await runCase('cases/export-ferry.ts', [input.plan, 'archive']);
    console.error(`bench: export --format ejson (${tag})…`);
    ejson = await runCase('cases/export-ferry.ts', [input.plan, 'ejson']);
  } finally {
    delete process.env.FERRY_BENCH_TARGET_URL;
    await db.drop();
  }
  const a = { name: 'a', result: backfill };
  return {
    name: 'export',
    title: 'Export against backfill',
    description: [
      "(a) Ferry's `backfill()` of the generated marketplace (seed 1, six collections, uncompressed mongodump archive, plan inferred once) into a fresh database on the local test PostgreSQL, parallel 2; then, from that database, (f) `exportDocuments()` as an uncompressed mongodump archive and (g) as canonical Extended JSON lines (the formats measured; dump and json share (g)'s page loop and (f)'s or (g)'s encoding), two collections at a time: every document rebuilt by `toDoc` from its rows one page (5000 root rows) at a time in key order, hashed into the manifest's buckets (for the archive from the BSON bytes written), written and fsynced with a checkpoint per page.",
      'Each export must rebuild every row, or the run fails. The ratio column compares documents/s with (a); MB/s counts the bytes written.',
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows: [
      toRow(`(a) Ferry backfill, parallel 2 (${tag})`, backfill),
      toRow(`(f) export --format archive (${tag})`, archive, a),
      toRow(`(g) export --format ejson (${tag})`, ejson, a),
    ],
    notes: [
      `Export archive / backfill in docs/s: **${(archive.docs / archive.seconds / (backfill.docs / backfill.seconds)).toFixed(2)}** (target ≥ 1.0); ejson: ${(ejson.docs / ejson.seconds / (backfill.docs / backfill.seconds)).toFixed(2)}.`,
      `Peak RSS: backfill ${backfill.maxRssMb} MB, export archive ${archive.maxRssMb} MB, export ejson ${ejson.maxRssMb} MB (the Node process only).`,
      `Load average when the run ended: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (above 2 means other work shared the cores, and the absolute figures drop with it).`,
      'The export reads two collections at a time, each on its own connection, with the next page fetched while the current one is rebuilt, and commits one page at a time (append, fsync, journal); the backfill loads two collections at a time on a worker thread. PostgreSQL runs on the same 2 cores, and the machine is shared, so absolute figures vary between runs; the ratios are from one run.',
    ],
  };
}
