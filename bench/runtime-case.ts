import { type Db, MongoClient } from 'mongodb';
import pg from 'pg';
import type { Plan } from '../src/mapping/model.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../src/runtime/runtime.js';
import { parseMongoUri } from '../src/sources/mongodb/uri.js';
import { BENCH_SCHEMA, targetUrl } from './backfill-db.js';
import { readPlan } from './backfill-inputs.js';

/** The domain the runtime benchmarks put their collections in. */
export const BENCH_DOMAIN = 'market';

/**
 * What a runtime benchmark's case process works with: the application's own clients (a driver
 * `Db`, a `pg.Pool` on the case's target) and a runtime over them, with `collections` in the
 * domain `market` of schema `bench`, as an app using Ferry would have them.
 */
export interface RuntimeCase {
  readonly plan: Plan;
  readonly mongo: Db;
  readonly pool: pg.Pool;
  readonly runtime: Runtime;
  /** Close the runtime, then the clients. */
  close(): Promise<void>;
}

/**
 * Open a runtime case from its arguments (the world's `mongodb://…/db` and plan file); the
 * target is the database the parent created (FERRY_BENCH_TARGET_URL).
 *
 * @example
 * const bench = await openRuntimeCase(uri, planFile, ['purchaseRequests'], { mirror: 'inline' });
 * const users = bench.runtime.collection('purchaseRequests');
 * try { … } finally { await bench.close(); }
 */
export async function openRuntimeCase(
  uri: string,
  planFile: string,
  collections: readonly string[],
  options: {
    readonly shadow?: RuntimeOptions['config']['shadow'];
    readonly mirror?: RuntimeOptions['mirror'];
    readonly poolSize?: number;
    readonly lockPoolSize?: number;
  } = {},
): Promise<RuntimeCase> {
  const plan = await readPlan(planFile);
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  const mongo = client.db(parseMongoUri(uri).database);
  const pool = new pg.Pool({ connectionString: targetUrl(), max: options.poolSize ?? 4 });
  pool.on('error', () => {});
  try {
    const runtime = await createRuntime({
      mongo,
      pg: pool,
      config: {
        ...(options.shadow !== undefined && { shadow: options.shadow }),
        mapping: plan,
        domains: { [BENCH_DOMAIN]: { collections: [...collections] } },
        schemas: [BENCH_SCHEMA],
      },
      ...(options.mirror !== undefined && { mirror: options.mirror }),
      ...(options.lockPoolSize !== undefined && { lockPoolSize: options.lockPoolSize }),
    });
    return {
      plan,
      mongo,
      pool,
      runtime,
      close: async () => {
        await runtime.close();
        await pool.end();
        await client.close();
      },
    };
  } catch (error) {
    await pool.end();
    await client.close();
    throw error;
  }
}
