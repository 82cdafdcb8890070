// Ferry's `exportDocuments` of the database a backfill case just loaded, in `format`, as
// `ferry export` runs it (the built package, as users run it). It must rebuild every row:
// an export that reports rows it could not rebuild measures the wrong thing.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportDocuments, openTarget } from '../../dist/index.js';
import { BENCH_SCHEMA, targetUrl } from '../backfill-db.js';
import { readPlan } from '../backfill-inputs.js';
import { reportCase } from '../harness.js';

const [planFile, format] = process.argv.slice(2) as [string, 'archive' | 'dump' | 'ejson' | 'json'];
const plan = await readPlan(planFile);
const dir = await mkdtemp(path.join(tmpdir(), 'ferry-bench-export-'));
const db = await openTarget(targetUrl());
const started = performance.now();
try {
  const to = path.join(dir, format === 'archive' ? 'export.archive' : 'export');
  const summary = await exportDocuments({
    db,
    plan,
    schema: BENCH_SCHEMA,
    to,
    format,
    targetUrl: targetUrl(),
  });
  if (!summary.ok) throw new Error(`export could not rebuild ${summary.unrebuildable.length} rows`);
  const seconds = (performance.now() - started) / 1000;
  const files = [...new Set(summary.collections.map((c) => c.file))];
  const bytes = (await Promise.all(files.map((f) => stat(f)))).reduce((n, s) => n + s.size, 0);
  reportCase({ docs: summary.collections.reduce((n, c) => n + c.exported, 0), bytes, seconds });
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
