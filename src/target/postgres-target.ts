import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { redactUri } from '../core/redact.js';
import { ferryTypes } from '../mapping/pg-parsers.js';
import { connectPostgres } from './connect.js';
import { copyStatement, encodeCopyPieces, framedBinary } from './copy-stream.js';
import type {
  CopyOptions,
  CopyRows,
  CopyText,
  Queryable,
  QueryResult,
  TableRef,
  TargetCapabilities,
  TargetDatabase,
  TargetSession,
  TargetTransaction,
} from './target-database.js';
import { copyError, queryError } from './target-error.js';

/** Options for a real PostgreSQL target. */
export interface PostgresTargetOptions {
  /** Pool size. Default 4: two cores, and COPY is bound by the server anyway. */
  readonly max?: number;
  readonly connectTimeoutMs?: number;
}

/**
 * A `TargetDatabase` over a `pg.Pool` whose clients read rows with Ferry's type parsers.
 * Fails with an environment error (exit 3, password redacted) when the server cannot be
 * reached, before any work starts.
 *
 * @example
 * const db = await openPostgresTarget('postgres://ferry:secret@localhost/app');
 * db.location   // 'postgres://ferry:***@localhost/app'
 */
export async function openPostgresTarget(
  url: string,
  options: PostgresTargetOptions = {},
): Promise<TargetDatabase> {
  const pool = await connectPostgres(url, { ...options, types: ferryTypes, onConnect: utcSession });
  return new PostgresTarget(pool, redactUri(url));
}

/**
 * Print timestamptz in UTC, as PGlite does, so both targets return the same text for the same
 * row whatever the server's TimeZone. A SET rather than a startup option, which poolers such
 * as PgBouncer refuse; run by the pool before it hands the connection out.
 */
async function utcSession(client: pg.ClientBase): Promise<void> {
  await client.query("SET TimeZone = 'UTC'");
}

/**
 * A `TargetDatabase` over a pool the application already has (the runtime library runs inside
 * the application and shares its pool). Rows are read with Ferry's type parsers per query, so
 * the pool's own parsers, which the application may rely on, are left alone. `close()` ends
 * the pool: the runtime never calls it on a pool it was given.
 *
 * @example
 * import type pg from 'pg';
 * declare const appPool: pg.Pool;
 * const db = postgresTargetOnPool(appPool);
 * await db.transaction((tx) => tx.query('select 1'));
 */
export function postgresTargetOnPool(
  pool: pg.Pool,
  location = 'postgres (application pool)',
): TargetDatabase {
  return new PostgresTarget(pool, location);
}

/**
 * Statements on one connection the caller checked out of a pool (and releases), with Ferry's
 * type parsers and errors, as the pool's target runs them.
 *
 * @example
 * import pg from 'pg';
 * declare const pool: pg.Pool;
 * const client = await pool.connect();
 * try {
 *   const { rows } = await queryableOnClient(client).query('select 1 as one');
 * } finally {
 *   client.release();
 * }
 */
export function queryableOnClient(client: pg.PoolClient): Queryable {
  return { query: (sql, params) => runQuery(client, sql, params) };
}

class PostgresTarget implements TargetDatabase {
  readonly kind = 'postgres';
  readonly capabilities: TargetCapabilities = { binaryCopy: true };

  constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return runQuery<R>(this.pool, sql, params);
  }

  async transaction<T>(fn: (tx: TargetTransaction) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    const markBroken = (error: Error) => {
      broken = error;
    };
    // Between two statements a lost connection is reported as an 'error' event, which the pool
    // listens for only on idle clients: unheard, it would crash the process (a server restart).
    client.on('error', markBroken);
    try {
      return await inTransaction(client, fn, markBroken);
    } finally {
      client.off('error', markBroken);
      client.release(broken);
    }
  }

  async acquire(): Promise<TargetSession> {
    return new PostgresSession(await this.connect());
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (cause) {
      throw queryError(cause);
    }
  }
}

class PostgresSession implements TargetSession {
  private broken: Error | undefined;
  private released = false;
  private readonly markBroken = (error: Error) => {
    this.broken = error;
  };

  constructor(private readonly client: pg.PoolClient) {
    // As in `transaction`: a connection lost while the session is held must not crash the process.
    client.on('error', this.markBroken);
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return runQuery<R>(this.client, sql, params);
  }

  transaction<T>(fn: (tx: TargetTransaction) => Promise<T>): Promise<T> {
    return inTransaction(this.client, fn, this.markBroken);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // Session state (advisory locks, settings) must not leak to the next borrower; a
    // connection that may hold any is destroyed rather than returned.
    this.client.off('error', this.markBroken);
    this.client.release(this.broken ?? true);
  }
}

class PostgresTransaction implements TargetTransaction {
  constructor(private readonly client: pg.PoolClient) {}

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return runQuery<R>(this.client, sql, params);
  }

  async runScript(sql: string): Promise<void> {
    // Without parameters pg uses the simple query protocol, which runs several statements.
    await runQuery(this.client, sql, undefined);
  }

  copyFrom(
    table: TableRef,
    columns: readonly string[],
    rows: CopyRows,
    options: CopyOptions = {},
  ): Promise<number> {
    return this.copyText(
      table,
      columns,
      encodeCopyPieces(table, columns, rows, { rows: 0 }, undefined, options.signal),
      options,
    );
  }

  async copyText(
    table: TableRef,
    columns: readonly string[],
    text: CopyText,
    options: CopyOptions = {},
  ): Promise<number> {
    const format = options.format ?? 'text';
    const stream = this.client.query(copyStreams.from(copyStatement(table, columns, 'STDIN', format)));
    const input = format === 'binary' ? framedBinary(text) : text;
    try {
      // pipeline waits for the copy stream's drain, so encoding never runs ahead of the socket.
      await pipeline(input, stream, ...(options.signal ? [{ signal: options.signal }] : []));
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason ?? cause;
      throw copyError(cause, table);
    }
    return stream.rowCount;
  }
}

async function runQuery<R>(
  on: pg.Pool | pg.PoolClient,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  try {
    // Ferry's parsers per query: the same as the pool's own on a pool Ferry opened, and on an
    // application's pool (postgresTargetOnPool) they leave the application's parsers alone.
    const result = await on.query({ text: sql, values: params as unknown[] | undefined, types: ferryTypes });
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  } catch (cause) {
    throw queryError(cause);
  }
}

/**
 * BEGIN, `fn`, COMMIT; ROLLBACK on a throw. When even ROLLBACK fails the connection is in an
 * unknown state, and `markBroken` tells the owner to destroy it instead of reusing it.
 */
async function inTransaction<T>(
  client: pg.PoolClient,
  fn: (tx: TargetTransaction) => Promise<T>,
  markBroken: (error: Error) => void,
): Promise<T> {
  try {
    await client.query('BEGIN');
  } catch (cause) {
    markBroken(cause as Error);
    throw queryError(cause);
  }
  let result: T;
  try {
    result = await fn(new PostgresTransaction(client));
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => markBroken(rollbackError));
    throw error;
  }
  try {
    await client.query('COMMIT');
  } catch (cause) {
    markBroken(cause as Error);
    throw queryError(cause);
  }
  return result;
}
