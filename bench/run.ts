/**
 * `npm run bench` — every benchmark, or those named: `npm run bench -- sources`.
 * Sizes: FERRY_BENCH_DOCS (default 300000). Results: bench/results/*.json and docs/benchmarks.md.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, saveReport } from './harness.js';
import { benchSources } from './sources.js';

const salesArchive = path.resolve(repoRoot, '../shared/datasets/sample_supplies.archive.gz');
if (!existsSync(salesArchive)) {
  console.error(`bench: ${salesArchive} is missing; the benchmarks replicate its real documents`);
  process.exit(2);
}
const docs = Number(process.env.FERRY_BENCH_DOCS ?? 300_000);
const benches: Record<string, () => Promise<void>> = {
  sources: async () => saveReport(await benchSources(salesArchive, docs)),
};
const selected = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of selected.length ? selected : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) {
    console.error(`bench: unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.error(`bench: ${name} (${docs} documents)…`);
  await bench();
}
console.error('bench: results in bench/results/ and docs/benchmarks.md');
