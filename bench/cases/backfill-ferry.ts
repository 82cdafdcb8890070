// Case (a): Ferry's backfill from the archive into a database that has the before-load DDL,
// default batch size, `parallel` collections at once; includes Ferry's after-load DDL.
// Ferry as users run it: the built package (`npm run bench` builds it first), not the
// TypeScript sources through tsx, whose transpiled module wrappers cost the hot path time.
import { backfill, openSource, openTarget } from '../../dist/index.js';
import { BENCH_SCHEMA, targetUrl } from '../backfill-db.js';
import { readPlan } from '../backfill-inputs.js';
import { counting } from '../counting-source.js';
import { reportCase } from '../harness.js';

// `tolerate-after-load`: the RSS run reuses a plan inferred on a smaller input, whose reference
// foreign keys need not hold on the larger one; the load itself must still be complete.
const [archive, planFile, parallel, tolerate] = process.argv.slice(2) as [string, string, string, string?];
const url = targetUrl();
const plan = await readPlan(planFile);
const started = performance.now();
const source = counting(await openSource(archive));
const target = await openTarget(url);
try {
  const summary = await backfill({
    source,
    target,
    plan,
    schemas: [BENCH_SCHEMA],
    parallel: Number(parallel),
    ...(process.env.FERRY_BENCH_BATCH ? { batchSize: Number(process.env.FERRY_BENCH_BATCH) } : {}),
    ...(process.env.FERRY_BENCH_THREADS
      ? { encodeWorkers: { threads: Number(process.env.FERRY_BENCH_THREADS) } }
      : {}),
  });
  const loaded = summary.collections.every((c) => c.phase === 'done');
  const problems = summary.afterLoad.problems.length;
  if (!(summary.ok || (loaded && tolerate === 'tolerate-after-load')))
    throw new Error(
      `backfill failed: ${JSON.stringify({ collections: summary.collections.map((c) => c.error ?? c.phase), afterLoad: summary.afterLoad.problems })}`,
    );
  const rejected = summary.collections.reduce((n, c) => n + c.run.rejected, 0);
  if (rejected > 0) throw new Error(`${rejected} rejects`);
  const docs = summary.collections.reduce((n, c) => n + c.run.read, 0);
  const rows = summary.collections.reduce((n, c) => n + Object.values(c.rows).reduce((a, b) => a + b, 0), 0);
  reportCase({
    docs,
    rows,
    bytes: source.bytes,
    seconds: (performance.now() - started) / 1000,
    extra: { afterLoadProblems: problems },
  });
} finally {
  await target.close();
  await source.close();
}
