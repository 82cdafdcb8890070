// Ferry's `verify` at `level` (deep or count) of the archive against the database a backfill
// case just loaded, as `ferry verify` runs it (the run recorded in ferry.verify_runs).
// It must find nothing: a verification that reports differences here measures the wrong thing.
// Ferry as users run it: the built package, as the backfill case it is compared with (through
// tsx, the sources' transpiled module wrappers cost the hot path time).
import { openSource, openTarget, verify } from '../../dist/index.js';
import { BENCH_SCHEMA, targetUrl } from '../backfill-db.js';
import { readPlan } from '../backfill-inputs.js';
import { counting } from '../counting-source.js';
import { reportCase } from '../harness.js';

const [archive, planFile, level] = process.argv.slice(2) as [string, string, 'deep' | 'count'];
const url = targetUrl();
const plan = await readPlan(planFile);
const started = performance.now();
const source = counting(await openSource(archive));
const db = await openTarget(url);
try {
  const result = await verify({ source, db, plan, schema: BENCH_SCHEMA, level, targetUrl: url });
  if (!result.ok)
    throw new Error(
      `verify found differences: ${JSON.stringify(result.collections.filter((c) => !c.ok).map(({ differences, ...c }) => ({ ...c, differences: differences.slice(0, 3) })))}`,
    );
  const docs = result.collections.reduce((n, c) => n + c.sourceCount, 0);
  const compared = result.collections.reduce((n, c) => n + c.compared, 0);
  if (level === 'deep' && compared !== docs) throw new Error(`deep verify compared ${compared} of ${docs}`);
  reportCase({
    docs,
    bytes: source.bytes,
    seconds: (performance.now() - started) / 1000,
    extra: {
      compared,
      buckets: result.collections.reduce((n, c) => n + (c.buckets?.total ?? 0), 0),
      ...Object.fromEntries(
        result.collections.map((c) => [`seconds.${c.collection}`, Math.round(c.seconds * 100) / 100]),
      ),
    },
  });
} finally {
  await db.close();
  await source.close();
}
