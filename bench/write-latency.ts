import pg from 'pg';
import { registerDomains, setPhase } from '../src/runtime/domains.js';
import { targetOf } from '../src/runtime/stores.js';
import { openSource } from '../src/sources/open.js';
import { ensureFerryState } from '../src/target/ferry-state.js';
import { openTarget } from '../src/target/open-target.js';
import { verify } from '../src/verify/verify.js';
import { BENCH_SCHEMA } from './backfill-db.js';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';
import { runtimeWorld } from './runtime-world.js';

/**
 * Write latency through Ferry against the bare driver, same run, same data (issue 13's
 * targets: inline p95 ≤ 2.5 × bare, async p95 ≤ 1.2 × bare). The marketplace in FerretDB,
 * backfilled into PostgreSQL, its purchaseRequests in a domain set to dual_write; then
 * sequential `updateOne`s by `_id` through (a) the driver, (b) `runtime.collection` with the
 * mirror inline, (c) the same with the mirror async. Deep verify of purchaseRequests must be
 * clean afterwards, so the mirrored cases did their whole job.
 */
export async function benchWriteLatency(docs: number, writes: number): Promise<BenchReport> {
  const world = await runtimeWorld('writes', docs);
  try {
    const pool = new pg.Pool({ connectionString: world.targetUrl, max: 2 });
    try {
      await ensureFerryState(pool);
      await registerDomains(targetOf(pool), { market: { collections: ['purchaseRequests'] } });
      await setPhase(pool, 'market', 'dual_write', { reason: 'write latency benchmark' });
    } finally {
      await pool.end();
    }
    process.env.FERRY_BENCH_TARGET_URL = world.targetUrl;
    const run = (mode: string) => {
      console.error(`bench: ${writes} writes, ${mode}…`);
      return runCase('cases/write-latency.ts', [world.uri, world.planFile, mode, String(writes)]);
    };
    const bare = await run('bare');
    const inline = await run('inline');
    const async = await run('async');
    await expectMirrored(world.uri, world.targetUrl, world.plan);
    return report(docs, writes, { bare, inline, async });
  } finally {
    delete process.env.FERRY_BENCH_TARGET_URL;
    await world.close();
  }
}

async function expectMirrored(uri: string, url: string, plan: Parameters<typeof verify>[0]['plan']) {
  const source = await openSource(uri);
  const db = await openTarget(url);
  try {
    const result = await verify({
      source,
      db,
      plan,
      schema: BENCH_SCHEMA,
      only: ['purchaseRequests'],
      record: false,
    });
    if (!result.ok)
      throw new Error(
        `purchaseRequests differ between the stores after the mirrored writes: ${JSON.stringify(result.collections[0]?.differences.slice(0, 5))}`,
      );
  } finally {
    await db.close();
    await source.close();
  }
}

function report(
  docs: number,
  writes: number,
  cases: { bare: CaseResult; inline: CaseResult; async: CaseResult },
): BenchReport {
  const { bare, inline, async } = cases;
  const a = { name: 'a', result: bare };
  const ms = (c: CaseResult, q: string) => Number(c.extra?.[q] ?? Number.NaN);
  const ratio = (c: CaseResult, q: string) => Math.round((ms(c, q) / ms(bare, q)) * 100) / 100;
  const line = (name: string, c: CaseResult) =>
    `${name}: p50 ${ms(c, 'p50')} ms, p95 ${ms(c, 'p95')} ms, p99 ${ms(c, 'p99')} ms` +
    (c === bare
      ? ' (baseline)'
      : ` = ${ratio(c, 'p50')} / **${ratio(c, 'p95')}** / ${ratio(c, 'p99')} × the bare write`);
  return {
    name: 'write-latency',
    title: 'Write latency through Ferry against the bare driver',
    description: [
      `The generated marketplace (${thousands(docs)} documents, seed 1; Decimal128 money as Int64 cents, since FerretDB v1.24 drops the connection on Decimal128) in FerretDB, backfilled into PostgreSQL, purchaseRequests in a domain in phase dual_write.`,
      `Each case: ${writes} sequential \`updateOne\` by \`_id\` (\`$set\` + \`$inc\`) over 500 purchase requests (embedded item arrays, so each mirror copy rewrites a root row and its child rows), each timed, after 50 untimed warm-up writes; (a) the official driver's collection, (b) \`runtime.collection()\` with the mirror inline (the copy to PostgreSQL awaited under the entity's lock), (c) the same with \`mirror: 'async'\` (the copy after the response). Async then waits for its queued copies (untimed) and must have recorded no gap; deep verify of purchaseRequests must be clean after all three.`,
      'The ratio column compares writes/s; the latency ratios are in the notes.',
    ].join(' '),
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows: [
      toRow(`(a) bare driver updateOne (${writes} writes)`, bare),
      toRow(`(b) through Ferry, mirror inline (${writes} writes)`, inline, a),
      toRow(`(c) through Ferry, mirror async (${writes} writes)`, async, a),
    ],
    notes: [
      line('(a) bare', bare),
      `${line('(b) inline', inline)} (target p95 ≤ 2.5).`,
      `${line('(c) async', async)} (target p95 ≤ 1.2); its queued copies finished ${async.extra?.flushSeconds ?? '?'} s after the last write.`,
      `Peak RSS: bare ${bare.maxRssMb} MB, inline ${inline.maxRssMb} MB, async ${async.maxRssMb} MB (the Node process only).`,
      "FerretDB (which stores documents in PostgreSQL) and the target PostgreSQL share the machine's 2 cores with the benchmark, and the machine is shared with other work, so a mirrored write competes with the primary for the same CPU; the ratios are from one run.",
    ],
  };
}
