import path from 'node:path';
import type { Document } from 'bson';
import { MongoClient } from 'mongodb';
import { decimalsAsStrings } from '../test/support/ferretdb-documents.js';
import { freshDatabase, serviceUrl } from './backfill-db.js';
import { readPlan } from './backfill-inputs.js';
import {
  type BenchReport,
  type BenchRow,
  type CaseResult,
  machine,
  runCase,
  thousands,
  toRow,
  workDir,
} from './harness.js';
import { inferPlanFile } from './infer-plan-file.js';
import { loadAverage } from './load-average.js';
import { salesReplica } from './sales-replica.js';

const DATABASE = 'ferry_bench_live';
const COLLECTION = 'sales';

/** The replicated sales in FerretDB (prices as decimal strings: it cannot store Decimal128), once per size. */
async function seedLive(salesArchive: string, docs: number): Promise<string> {
  const url = new URL(serviceUrl('FERRY_TEST_MONGO_URL', 'FERRY_BENCH_MONGO_URL'));
  url.pathname = `/${DATABASE}`;
  const client = new MongoClient(url.toString(), { serverSelectionTimeoutMS: 5000 });
  try {
    const collection = client.db().collection(COLLECTION);
    if ((await collection.estimatedDocumentCount()) !== docs) {
      console.error(`bench: inserting ${docs} sales documents into FerretDB…`);
      await collection.drop().catch(() => {});
      let batch: Document[] = [];
      for await (const doc of salesReplica(salesArchive, docs)) {
        batch.push(decimalsAsStrings(doc) as Document);
        if (batch.length === 5000) {
          await collection.insertMany(batch, { ordered: false });
          batch = [];
        }
      }
      if (batch.length > 0) await collection.insertMany(batch, { ordered: false });
    }
  } finally {
    await client.close();
  }
  return url.toString();
}

/**
 * A live source's backfill against the bare raw cursor over the same collection, in the
 * same run: the backfill's documents/s over the fastest bare read is the ratio the issue asks
 * for (≥ 0.8). The bare reads also show what `_id` order and parallel `_id` ranges cost or
 * gain on this server.
 */
export async function benchLiveSource(salesArchive: string, docs: number): Promise<BenchReport> {
  const loadBefore = loadAverage();
  const uri = await seedLive(salesArchive, docs);
  const planFile = await inferPlanFile(uri, path.join(workDir, `live-${docs}`, 'plan.json'));
  const plan = await readPlan(planFile);
  const tag = `sales ${thousands(docs)}`;
  const reads: { name: string; result: CaseResult }[] = [];
  for (const [label, mode] of [
    ['bare raw cursor, no order', 'plain'],
    ['bare raw cursor, _id order', 'sorted'],
    ['bare raw cursors, 2 _id ranges at once', 'ranges:2'],
  ] as const) {
    const name = `(r) ${label} (${tag})`;
    console.error(`bench: ${name}…`);
    reads.push({ name, result: await runCase('cases/read-live-raw.ts', [uri, COLLECTION, mode]) });
  }
  const ceiling = reads.reduce((best, r) =>
    r.result.docs / r.result.seconds > best.result.docs / best.result.seconds ? r : best,
  );
  const ferryName = `(a) Ferry backfill from FerretDB (${tag})`;
  console.error(`bench: ${ferryName}…`);
  const db = await freshDatabase('live_backfill', plan);
  process.env.FERRY_BENCH_TARGET_URL = db.url;
  let ferry: CaseResult;
  try {
    ferry = await runCase('cases/backfill-ferry.ts', [uri, planFile, '1']);
  } finally {
    delete process.env.FERRY_BENCH_TARGET_URL;
    await db.drop();
  }
  const rows: BenchRow[] = reads.map((r) => toRow(r.name, r.result, r === ceiling ? undefined : ceiling));
  rows.push(toRow(ferryName, ferry, { name: 'fastest r', result: ceiling.result }));
  const ratio = ferry.docs / ferry.seconds / (ceiling.result.docs / ceiling.result.seconds);
  return {
    name: 'live-source',
    title: 'Backfill from a live server',
    description: `The 5000 real \`sample_supplies.sales\` documents replicated to ${thousands(docs)} with fresh ObjectIds and inserted into the local FerretDB v1.24 (\`scripts/services.sh\`; prices as exact decimal strings, since FerretDB cannot store Decimal128). (r) is the read ceiling: the bare driver cursor with \`raw: true\`, counting bytes and nothing else, in three shapes. (a) is Ferry's \`backfill()\` from the \`mongodb://\` source into a fresh database with the before-load DDL of the plan inferred from that collection, including its after-load DDL: the server's BSON batches go undecoded into the same encoder the archive path uses. MB/s counts BSON bytes.`,
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows,
    notes: [
      `(a) / fastest (r) = ${ratio.toFixed(2)} in docs/s (target ≥ 0.8).`,
      'FerretDB, PostgreSQL and the case share the same 2 cores (and the machine is shared): the server side, not Ferry, sets the read ceiling here.',
      `Command: \`FERRY_BENCH_LIVE_DOCS=${docs} npm run bench -- live\`; load average (1, 5, 15 min, as \`uptime\` shows it) ${loadBefore} before, ${loadAverage()} after.`,
    ],
  };
}
