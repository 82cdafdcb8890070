/**
 * `npm run bench` — every benchmark, or those named: `npm run bench -- sources`.
 * Sizes: FERRY_BENCH_DOCS (default 300000; 1000000 for backfill and verify), and for backfill
 * FERRY_BENCH_SALES (500000), FERRY_BENCH_RSS_DOCS (5000000, 0 skips), FERRY_BENCH_INSERT_DOCS (100000),
 * FERRY_BENCH_PARALLEL1=1 (also Ferry with parallel 1), and for experiments FERRY_BENCH_BATCH and
 * FERRY_BENCH_THREADS (Ferry's batch size and encoding threads; the table shows the defaults); dlt (Ferry's migrate beside dlt from PyPI) reads FERRY_BENCH_DLT_SALES (default 200000); gzip (backfill from .archive.gz beside the uncompressed archive) reads FERRY_BENCH_GZIP_SALES and FERRY_BENCH_GZIP_DOCS (default 200000 each); verify and export read FERRY_BENCH_DOCS (default 1000000), verify also FERRY_BENCH_SALES (500000, 0 skips); sync (on FerretDB; `npm run bench` starts PostgreSQL and FerretDB first, through its `prebench` script) reads FERRY_BENCH_SYNC_DOCS (default 50000), writes (the runtime's write latency, also on FerretDB) FERRY_BENCH_WRITES (writes per mode, default 1000), outbox (also on FerretDB) FERRY_BENCH_OUTBOX_DOCS (default 20000), FERRY_BENCH_OUTBOX_SECONDS (the offered load's length, default 20) and FERRY_BENCH_WRITES (single-row transactions per side of the capture cost, default 2000); shadow (the shadow read's added latency, on FerretDB) FERRY_BENCH_SHADOW_READS (reads per mode, default 2000); flip (the primary flip's pause under an offered write load, on FerretDB) FERRY_BENCH_FLIPS (flips each way, default 20), FERRY_BENCH_FLIP_RATE (writes/s offered, default 200) and FERRY_BENCH_FLIP_GAP_MS (between flips, default 3000). live (backfill from FerretDB beside a bare raw cursor) reads FERRY_BENCH_LIVE_DOCS and json-backfill (Extended JSON and plain JSON beside the archive) FERRY_BENCH_JSON_DOCS (default 100000 each). Results: bench/results/*.json and docs/benchmarks.md.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { benchBackfill } from './backfill.js';
import { benchDlt } from './dlt.js';
import { benchExport } from './export.js';
import { benchFlipPause } from './flip-pause.js';
import { benchGzip } from './gzip.js';
import { repoRoot, saveReport } from './harness.js';
import { benchJsonBackfill } from './json-backfill.js';
import { benchLiveSource } from './live-source.js';
import { benchOutbox } from './outbox.js';
import { benchShadowRead } from './shadow-read.js';
import { benchSources } from './sources.js';
import { benchSync } from './sync.js';
import { benchVerify } from './verify.js';
import { benchWriteLatency } from './write-latency.js';

const salesArchive = path.resolve(repoRoot, '../shared/datasets/sample_supplies.archive.gz');
if (!existsSync(salesArchive)) {
  console.error(`bench: ${salesArchive} is missing; the benchmarks replicate its real documents`);
  process.exit(2);
}
const docs = Number(process.env.FERRY_BENCH_DOCS ?? 300_000);
const benches: Record<string, () => Promise<void>> = {
  sources: async () => saveReport(await benchSources(salesArchive, docs)),
  backfill: async () =>
    saveReport(
      await benchBackfill(salesArchive, {
        docs: Number(process.env.FERRY_BENCH_DOCS ?? 1_000_000),
        sales: Number(process.env.FERRY_BENCH_SALES ?? 500_000),
        rssDocs: Number(process.env.FERRY_BENCH_RSS_DOCS ?? 5_000_000),
        insertDocs: Number(process.env.FERRY_BENCH_INSERT_DOCS ?? 100_000),
        parallel1: process.env.FERRY_BENCH_PARALLEL1 === '1',
      }),
    ),
  verify: async () =>
    saveReport(
      await benchVerify(salesArchive, {
        docs: Number(process.env.FERRY_BENCH_DOCS ?? 1_000_000),
        sales: Number(process.env.FERRY_BENCH_SALES ?? 500_000),
      }),
    ),
  dlt: async () =>
    saveReport(await benchDlt(salesArchive, Number(process.env.FERRY_BENCH_DLT_SALES ?? 200_000))),
  gzip: async () =>
    saveReport(
      await benchGzip(salesArchive, {
        sales: Number(process.env.FERRY_BENCH_GZIP_SALES ?? 200_000),
        docs: Number(process.env.FERRY_BENCH_GZIP_DOCS ?? 200_000),
      }),
    ),
  'json-backfill': async () =>
    saveReport(await benchJsonBackfill(salesArchive, Number(process.env.FERRY_BENCH_JSON_DOCS ?? 100_000))),
  live: async () =>
    saveReport(await benchLiveSource(salesArchive, Number(process.env.FERRY_BENCH_LIVE_DOCS ?? 100_000))),
  export: async () => saveReport(await benchExport(Number(process.env.FERRY_BENCH_DOCS ?? 1_000_000))),
  sync: async () => saveReport(await benchSync(Number(process.env.FERRY_BENCH_SYNC_DOCS ?? 50_000))),
  outbox: async () =>
    saveReport(
      await benchOutbox(Number(process.env.FERRY_BENCH_OUTBOX_DOCS ?? 20_000), {
        writes: Number(process.env.FERRY_BENCH_WRITES ?? 2000),
        seconds: Number(process.env.FERRY_BENCH_OUTBOX_SECONDS ?? 20),
      }),
    ),
  writes: async () =>
    saveReport(await benchWriteLatency(5000, Number(process.env.FERRY_BENCH_WRITES ?? 1000))),
  shadow: async () =>
    saveReport(await benchShadowRead(5000, Number(process.env.FERRY_BENCH_SHADOW_READS ?? 2000))),
  flip: async () =>
    saveReport(
      await benchFlipPause(5000, {
        flips: Number(process.env.FERRY_BENCH_FLIPS ?? 20),
        rate: Number(process.env.FERRY_BENCH_FLIP_RATE ?? 200),
        gapMs: Number(process.env.FERRY_BENCH_FLIP_GAP_MS ?? 3000),
      }),
    ),
};
const selected = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of selected.length ? selected : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) {
    console.error(`bench: unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  // Each benchmark reads its own sizes (backfill has several), so only the name here.
  console.error(`bench: ${name}…`);
  await bench();
}
console.error('bench: results in bench/results/ and docs/benchmarks.md');
