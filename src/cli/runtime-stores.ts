import { MongoClient } from 'mongodb';
import type pg from 'pg';
import type { ResolvedConfig } from '../config/load.js';
import { FerryError } from '../core/errors.js';
import { redactUri } from '../core/redact.js';
import type { Plan } from '../mapping/model.js';
import { parsePlan } from '../mapping/validate-plan.js';
import type { RuntimeStores } from '../runtime/entity-copy.js';
import { installDriverWriteGuard } from '../sources/mongodb/driver-write-guard.js';
import { mongoError } from '../sources/mongodb/mongo-errors.js';
import { parseMongoUri } from '../sources/mongodb/uri.js';
import { connectPostgres } from '../target/connect.js';

/** The runtime's two stores opened from the config, for the workers' commands; `close()` both. */
export interface OpenedRuntimeStores {
  readonly stores: RuntimeStores;
  /** The primary's URI as the user gave it (for a command that also reads it as a source). */
  readonly sourceUri: string;
  close(): Promise<void>;
}

/**
 * Open the live primary (a `mongodb://` URI naming the database: `--source` or the config's
 * `source`) and the PostgreSQL server (`--target` or `DATABASE_URL`), as the runtime inside the
 * application holds them, for `ferry reconcile` and the other runtime workers. A dump, a file
 * or the embedded target is a usage error (exit 2); a server that does not answer, exit 3.
 *
 * @example
 * declare const config: ResolvedConfig;
 * const { stores, close } = await openRuntimeStores(config, 'reconcile');
 */
export async function openRuntimeStores(
  config: ResolvedConfig,
  command: string,
  schema?: string,
): Promise<OpenedRuntimeStores> {
  const plan = mappingOf(config, command);
  const uri = config.source;
  if (uri === undefined || !/^mongodb(\+srv)?:\/\//i.test(uri))
    throw new FerryError(
      `ferry ${command} needs the live MongoDB, not ${uri === undefined ? 'no source' : redactUri(uri)}`,
      {
        code: 'RUNTIME_SOURCE_NOT_LIVE',
        category: 'usage',
        hint: 'pass the primary as mongodb://host/database (--source, or `source` in ferry.config.ts)',
      },
    );
  const parts = parseMongoUri(uri);
  if (parts.database === undefined)
    throw new FerryError(`the source ${redactUri(uri)} names no database`, {
      code: 'RUNTIME_SOURCE_NOT_LIVE',
      category: 'usage',
      hint: 'name the database in the URI path: mongodb://host/shop',
    });
  const target = config.target?.trim();
  if (target === undefined || !/^postgres(ql)?:\/\//i.test(target))
    throw new FerryError(`ferry ${command} needs a PostgreSQL server as the target`, {
      code: 'RUNTIME_TARGET_NOT_POSTGRES',
      category: 'usage',
      hint: 'give --target or DATABASE_URL as postgres://user:password@host:5432/database',
    });
  installDriverWriteGuard();
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  let pool: pg.Pool;
  try {
    await client.connect().catch((cause: unknown) => {
      throw mongoError(
        { hosts: parts.hosts, database: parts.database, withCredentials: parts.withCredentials },
        cause,
      );
    });
    pool = await connectPostgres(target, { max: 4 });
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return {
    stores: {
      mongo: client.db(parts.database),
      pg: pool,
      plan,
      schema: schema ?? config.schemas?.[0] ?? 'public',
    },
    sourceUri: uri,
    close: async () => {
      await client.close().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}

function mappingOf(config: ResolvedConfig, command: string): Plan {
  if (config.mapping === undefined)
    throw new FerryError(`${config.configFile ?? 'ferry.config.ts'} has no mapping for ferry ${command}`, {
      code: 'RUNTIME_NO_MAPPING',
      category: 'usage',
      hint: 'run `ferry infer <source>` (or `ferry migrate`) first',
    });
  return parsePlan(config.mapping);
}
