import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Document } from 'bson';
import { type Db, MongoClient } from 'mongodb';
import pg from 'pg';
import { generateMarketplace } from '../src/generate/marketplace/generate-marketplace.js';
import { inferMapping } from '../src/infer/infer-mapping.js';
import { backfill } from '../src/load/backfill.js';
import type { Plan } from '../src/mapping/model.js';
import { type Phase, registerDomains, setPhase } from '../src/runtime/domains.js';
import { targetOf } from '../src/runtime/stores.js';
import { writeArchive } from '../src/sources/archive/write-archive.js';
import { openSource } from '../src/sources/open.js';
import { ensureFerryState } from '../src/target/ferry-state.js';
import { openTarget } from '../src/target/open-target.js';
import { verify } from '../src/verify/verify.js';
import { withoutDecimals } from '../test/integration/runtime/support.js';
import { BENCH_SCHEMA, freshDatabase, serviceUrl } from './backfill-db.js';
import { workDir } from './harness.js';
import { BENCH_DOMAIN } from './runtime-case.js';

/**
 * The runtime benchmarks' world: the generated marketplace (seed 1; Decimal128 money as Int64
 * cents, since FerretDB v1.24 drops the connection on Decimal128) in a FerretDB database, the
 * live primary, with a mapping inferred from the same documents, backfilled by Ferry into a
 * fresh PostgreSQL database (schema `bench`). Nothing here is timed. While the world is open, FERRY_BENCH_TARGET_URL
 * names its target, so the cases' processes (which inherit the environment) find it.
 */
export interface RuntimeWorld {
  /** `mongodb://…/<database>`. */
  readonly uri: string;
  readonly mongo: Db;
  readonly plan: Plan;
  /** The plan as a JSON file, for the cases' processes. */
  readonly planFile: string;
  readonly targetUrl: string;
  /** Each collection's ids as generated. */
  readonly ids: Map<string, unknown[]>;
  /** Seconds it took to insert the documents into FerretDB. */
  readonly loadSeconds: number;
  close(): Promise<void>;
}

/**
 * Load, infer, backfill; `label` keeps the databases of different benchmarks apart.
 *
 * @example
 * const world = await runtimeWorld('sync', 50_000);
 * try { … } finally { await world.close(); }
 */
export async function runtimeWorld(label: string, docs: number): Promise<RuntimeWorld> {
  const mongoUrl = serviceUrl('FERRY_TEST_MONGO_URL', 'FERRY_BENCH_MONGO_URL');
  const database = `ferry_bench_${label}_${process.pid}`;
  const uri = Object.assign(new URL(mongoUrl), { pathname: `/${database}` }).toString();
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  const mongo = client.db(database);
  let target: { url: string; drop: () => Promise<void> } | undefined;
  try {
    await mongo.dropDatabase();
    console.error(`bench: loading the marketplace (${docs} documents) into FerretDB…`);
    const started = performance.now();
    const ids = new Map<string, unknown[]>();
    for (const collection of generateMarketplace({ seed: 1, scale: docs })) {
      const list: unknown[] = [];
      let batch: Document[] = [];
      for (const doc of collection.docs()) {
        batch.push(withoutDecimals(doc) as Document);
        list.push(doc._id);
        if (batch.length === 1000) {
          await mongo.collection(collection.name).insertMany(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await mongo.collection(collection.name).insertMany(batch);
      ids.set(collection.name, list);
    }
    const loadSeconds = (performance.now() - started) / 1000;

    // Inference and the backfill read a local archive of the very documents FerretDB holds
    // (generated again from the same seed): they are the set-up, not what is measured, and
    // FerretDB serves about a thousand documents/s, so reading it twice more took over an
    // hour at 1M documents. The timed cases all read FerretDB, the live primary.
    const dir = path.join(workDir, `runtime-${label}-${docs}`);
    await mkdir(dir, { recursive: true });
    const archive = path.join(dir, 'world.archive');
    console.error('bench: writing the same documents as an archive for the set-up…');
    await writeArchive(
      archive,
      database,
      generateMarketplace({ seed: 1, scale: docs }).map((c) => ({
        name: c.name,
        docs: mapIterable(c.docs(), (d) => withoutDecimals(d) as Document),
      })),
    );
    console.error('bench: inferring the mapping and backfilling it…');
    const planFile = path.join(dir, 'plan.json');
    const inferSource = await openSource(archive);
    // The benches drift and repair every collection, the ledger too, which inference proposes
    // as append-only (a ledger that refuses edits would make every repair of it a refusal).
    const plan = await inferMapping(inferSource)
      .then((m) => ({
        ...m.plan,
        collections: m.plan.collections.map(({ appendOnly: _appendOnly, ...c }) => c),
      }))
      .finally(() => inferSource.close());
    await writeFile(planFile, JSON.stringify(plan));
    target = await freshDatabase(label, plan);
    const loadSource = await openSource(archive);
    const db = await openTarget(target.url);
    try {
      const summary = await backfill({ source: loadSource, target: db, plan, schemas: [BENCH_SCHEMA] });
      if (!summary.collections.every((c) => c.phase === 'done' && c.run.rejected === 0))
        throw new Error('the backfill did not load every document');
    } finally {
      await db.close();
      await loadSource.close();
      await rm(archive, { force: true });
    }
    const dropTarget = target.drop;
    process.env.FERRY_BENCH_TARGET_URL = target.url;
    return {
      uri,
      mongo,
      plan,
      planFile,
      targetUrl: target.url,
      ids,
      loadSeconds,
      close: async () => {
        delete process.env.FERRY_BENCH_TARGET_URL;
        await mongo.dropDatabase().catch(() => {});
        await client.close();
        await dropTarget();
      },
    };
  } catch (error) {
    await mongo.dropDatabase().catch(() => {});
    await client.close();
    await target?.drop();
    throw error;
  }
}

/**
 * Put `collections` in the benchmarks' domain (`BENCH_DOMAIN`) and walk it through `phases`,
 * in order, each change audited with `reason`.
 *
 * @example
 * declare const world: RuntimeWorld;
 * await enterPhases(world, ['purchaseRequests'], ['dual_write', 'shadow_read'], 'shadow read benchmark');
 */
export async function enterPhases(
  world: RuntimeWorld,
  collections: readonly string[],
  phases: readonly Phase[],
  reason: string,
): Promise<void> {
  const pool = new pg.Pool({ connectionString: world.targetUrl, max: 2 });
  try {
    await ensureFerryState(pool);
    await registerDomains(targetOf(pool), { [BENCH_DOMAIN]: { collections: [...collections] } });
    for (const phase of phases) await setPhase(pool, BENCH_DOMAIN, phase, { reason });
  } finally {
    await pool.end();
  }
}

/**
 * Deep verify of `collections`, FerretDB against PostgreSQL; throws with the first differences
 * unless the stores are equal, so a benchmark whose writes went missing cannot report figures.
 *
 * @example
 * declare const world: RuntimeWorld;
 * await expectStoresEqual(world, ['purchaseRequests']);
 */
export async function expectStoresEqual(world: RuntimeWorld, collections: readonly string[]): Promise<void> {
  const source = await openSource(world.uri);
  const db = await openTarget(world.targetUrl);
  try {
    const result = await verify({
      source,
      db,
      plan: world.plan,
      schema: BENCH_SCHEMA,
      only: collections,
      record: false,
    });
    if (!result.ok)
      throw new Error(
        `${collections.join(', ')} differ between the stores: ${JSON.stringify(result.collections.flatMap((c) => c.differences).slice(0, 5))}`,
      );
  } finally {
    await db.close();
    await source.close();
  }
}

function* mapIterable<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}
