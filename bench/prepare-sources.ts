// Pre-generate the sources benchmark inputs for a size without measuring anything, so a
// later `npm run bench` spends its time reading: `tsx bench/prepare-sources.ts 1200000`.
import path from 'node:path';
import { repoRoot } from './harness.js';
import { prepareInputs } from './sources.js';

const docs = Number(process.argv[2] ?? 300_000);
await prepareInputs(path.resolve(repoRoot, '../shared/datasets/sample_supplies.archive.gz'), docs);
console.error(`bench inputs for ${docs} documents are ready`);
