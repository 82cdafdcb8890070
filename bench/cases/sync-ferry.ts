// Case (v)/(c): Ferry's deep `verify` of the live source against PostgreSQL, which must find
// exactly `expected` differing documents; case (s): `syncStores` (what `ferry sync` runs),
// which must find at least `expected`, repair them all and end with the stores equal.
// Both read the source through the same counting wrapper, so MB/s means the same.
import { MongoClient } from 'mongodb';
import { syncStores } from '../../src/runtime/sync/sync.js';
import { parseMongoUri } from '../../src/sources/mongodb/uri.js';
import { openSource } from '../../src/sources/open.js';
import { connectPostgres } from '../../src/target/connect.js';
import { openTarget } from '../../src/target/open-target.js';
import { verify } from '../../src/verify/verify.js';
import { BENCH_SCHEMA, targetUrl } from '../backfill-db.js';
import { readPlan } from '../backfill-inputs.js';
import { counting } from '../counting-source.js';
import { reportCase } from '../harness.js';

const [uri, planFile, mode, expectedText] = process.argv.slice(2) as [
  string,
  string,
  'verify' | 'sync',
  string,
];
const expected = Number(expectedText);
const url = targetUrl();
const plan = await readPlan(planFile);
const started = performance.now();
const source = counting(await openSource(uri));
try {
  if (mode === 'verify') {
    const db = await openTarget(url);
    try {
      const result = await verify({ source, db, plan, schema: BENCH_SCHEMA, level: 'deep' });
      const found = result.collections.reduce((n, c) => n + c.missing + c.extra + c.content, 0);
      if (found !== expected)
        throw new Error(`deep verify found ${found} differing documents, not ${expected}`);
      reportCase({
        docs: result.collections.reduce((n, c) => n + c.sourceCount, 0),
        bytes: source.bytes,
        seconds: (performance.now() - started) / 1000,
        extra: { found },
      });
    } finally {
      await db.close();
    }
  } else {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
    const pool = await connectPostgres(url, { max: 4 });
    try {
      const mongo = client.db(parseMongoUri(uri).database);
      const result = await syncStores({ stores: { mongo, pg: pool, plan, schema: BENCH_SCHEMA }, source });
      const sum = (f: (c: (typeof result.collections)[number]) => number) =>
        result.collections.reduce((n, c) => n + f(c), 0);
      const found = sum((c) => c.missing + c.extra + c.changed);
      if (!result.ok || found < expected)
        throw new Error(
          `sync ended ${result.ok ? 'equal' : 'unequal'} after finding ${found} of ${expected}`,
        );
      reportCase({
        docs: sum((c) => c.checked),
        bytes: source.bytes,
        seconds: (performance.now() - started) / 1000,
        extra: {
          found,
          repaired: sum((c) => c.repaired),
          deleted: sum((c) => c.deleted),
          skipped: sum((c) => c.skipped),
        },
      });
    } finally {
      await client.close();
      await pool.end();
    }
  }
} finally {
  await source.close();
}
