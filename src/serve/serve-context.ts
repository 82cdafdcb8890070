import type { Db } from 'mongodb';
import type pg from 'pg';
import type { Plan } from '../mapping/model.js';
import type { DomainDefinitions } from '../runtime/domains.js';
import { readStatusSnapshot, type StatusSnapshot } from '../runtime/status-snapshot.js';
import { targetOf } from '../runtime/stores.js';
import { MongoPoolCounter, mongoLocation } from './store-probes.js';
import { DEFAULT_THRESHOLDS, type SyncThresholds } from './thresholds.js';

/**
 * What the handlers of `ferry serve` read from, shared by the health handlers and any plugin
 * registered on the server (the dashboard): the two stores, the runtime's schema and domains,
 * the thresholds, and the status snapshot. A plugin reads state through `snapshot()` so that
 * the page, `/health/sync` and `/metrics` always show the same figures.
 *
 * @example
 * import type { FastifyInstance } from 'fastify';
 * declare const app: FastifyInstance;
 * const snapshot = await app.ferry.snapshot();
 * console.log(snapshot.collections.length, app.ferry.showValues);
 */
export interface FerryServeContext {
  /** PostgreSQL, the target: where schema `ferry` lives. */
  readonly pg: pg.Pool;
  /** Where PostgreSQL is; only ever shown redacted. */
  readonly postgresLocation: string;
  /** The MongoDB database, when one is configured, with its pool counter. */
  readonly mongo?: { readonly db: Db; readonly location: string; readonly counter: MongoPoolCounter };
  /** The target schema the runtime's gaps belong to. */
  readonly schema: string;
  readonly domains: DomainDefinitions;
  /** The reviewed mapping, when the config has one. */
  readonly plan?: Plan;
  readonly thresholds: SyncThresholds;
  /** Document values may be shown (rejects, differences), as with a command's `--show-values`. */
  readonly showValues: boolean;
  /** The status snapshot, read now from schema `ferry`. */
  snapshot(): Promise<StatusSnapshot>;
}

/**
 * What a context is made from: the pool and database the caller owns (Ferry closes neither).
 *
 * @example
 * import type { Db } from 'mongodb';
 * import type pg from 'pg';
 * declare const pool: pg.Pool;
 * declare const db: Db;
 * const options: ServeContextOptions = { pg: pool, mongo: db, schema: 'public', showValues: false };
 */
export interface ServeContextOptions {
  readonly pg: pg.Pool;
  /** Where PostgreSQL is, for `/health/databases` (shown redacted); default: host, port and database of the pool. */
  readonly postgresLocation?: string;
  readonly mongo?: Db;
  /** Where MongoDB is (shown redacted); default: the client's hosts and the database. */
  readonly mongoLocation?: string;
  readonly schema?: string;
  readonly domains?: DomainDefinitions;
  readonly plan?: Plan;
  readonly thresholds?: SyncThresholds;
  readonly showValues?: boolean;
}

/**
 * A context over the caller's stores.
 *
 * @example
 * import pg from 'pg';
 * const context = createServeContext({ pg: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * const snapshot = await context.snapshot();
 */
export function createServeContext(options: ServeContextOptions): FerryServeContext {
  const schema = options.schema ?? 'public';
  const domains = options.domains ?? {};
  const mongo = options.mongo;
  return {
    pg: options.pg,
    postgresLocation: options.postgresLocation ?? poolLocation(options.pg),
    ...(mongo !== undefined && {
      mongo: {
        db: mongo,
        location: options.mongoLocation ?? mongoLocation(mongo),
        counter: new MongoPoolCounter(mongo.client),
      },
    }),
    schema,
    domains,
    ...(options.plan !== undefined && { plan: options.plan }),
    thresholds: options.thresholds ?? DEFAULT_THRESHOLDS,
    showValues: options.showValues ?? false,
    snapshot: () => readStatusSnapshot(targetOf(options.pg), { schema, domains }),
  };
}

/** The pool's connection string (shown redacted), else `postgres://host:port/database` from its options. */
function poolLocation(pool: pg.Pool): string {
  const { connectionString, host, port, database } = pool.options;
  if (connectionString !== undefined) return connectionString;
  return `postgres://${host ?? 'localhost'}:${port ?? 5432}/${database ?? ''}`;
}
