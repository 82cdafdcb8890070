import type { RowValues } from '../mapping/row-values.js';

/**
 * The one small surface the rest of Ferry uses to talk to the target database, whether that
 * is a real PostgreSQL server (`pg`) or the embedded PGlite under `./.ferry/`. Loaders,
 * checkpoints, verification and setup take a `TargetDatabase` as a parameter and never
 * import a driver, so both targets run the same code and the same tests.
 *
 * Rows come back in Ferry's row representation (row-values.ts) on both targets: `bigint`,
 * `numeric`, `double precision`, `timestamptz` and `jsonb` as the text PostgreSQL printed,
 * `bytea` as a Buffer. Query parameters accept the same values.
 */

/**
 * A table as schema and name, each quoted by the target; never pre-quoted by the caller.
 *
 * @example
 * declare const tx: TargetTransaction;
 * declare const batches: CopyRows;
 * await tx.copyFrom({ schema: 'public', name: 'orders' }, ['id', 'total'], batches);
 */
export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

/**
 * The rows of a statement and the count its command tag reports (0 when it has none).
 *
 * @example
 * declare const db: TargetDatabase;
 * const { rows, rowCount }: QueryResult<{ id: number }> = await db.query('select id from ferry.rejects');
 */
export interface QueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

/**
 * Rows to COPY, in batches, as `toRows` and the loaders hand them over.
 *
 * @example
 * const batches: CopyRows = [[{ id: 1, total: '9.50' }], [{ id: 2, total: '1.00' }]];
 */
export type CopyRows = AsyncIterable<readonly RowValues[]> | Iterable<readonly RowValues[]>;

/**
 * COPY text already encoded: whole lines in PostgreSQL's text format, each ending in `\n`,
 * handed over in pieces (strings or UTF-8 bytes) that never split a line.
 */
export type CopyText = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/** Anything that runs one SQL statement with `$1…` parameters. */
export interface Queryable {
  /**
   * Run one statement. Errors are `TargetError`s carrying the SQLSTATE; row values stay out
   * of their message unless `FERRY_DEBUG` is set.
   *
   * @example
   * declare const db: TargetDatabase;
   * const { rows } = await db.query<{ n: string }>('select count(*) as n from ferry.rejects');
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/**
 * What a transaction body can do: query, run a script, and COPY rows in.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const table: TableRef;
 * declare const columns: readonly string[];
 * declare const batches: CopyRows;
 * declare const position: string;
 * declare const run: number;
 * await db.transaction(async (tx: TargetTransaction) => {
 *   await tx.copyFrom(table, columns, batches);
 *   await tx.query('update ferry.checkpoints set position = $1 where run = $2', [position, run]);
 * });
 */
export interface TargetTransaction extends Queryable {
  /**
   * Run a script of several statements with no parameters (a migration file). Separate from
   * `query` because PGlite's `query` takes exactly one statement.
   *
   * @example
   * declare const db: TargetDatabase;
   * await db.transaction((tx) => tx.runScript('create table a (x int); create index on a (x);'));
   */
  runScript(sql: string): Promise<void>;

  /**
   * `COPY "schema"."table" (columns…) FROM STDIN` in text format, the rows streamed batch by
   * batch (each row needs a value for every column). Resolves to the number of rows
   * copied. A failing row fails the whole COPY, and with it the transaction, with a
   * `TARGET_COPY_FAILED` error naming the table and the 1-based row (line) within this call.
   *
   * @example
   * declare const db: TargetDatabase;
   * declare const batches: CopyRows;
   * declare const pos: string;
   * declare const run: number;
   * await db.transaction(async (tx) => {
   *   const n = await tx.copyFrom({ schema: 'public', name: 'orders' }, ['id', 'total'], batches);
   *   await tx.query('update ferry.checkpoints set position = $1 where run = $2', [pos, run]);
   * });
   */
  copyFrom(
    table: TableRef,
    columns: readonly string[],
    rows: CopyRows,
    options?: CopyOptions,
  ): Promise<number>;

  /**
   * `copyFrom` for rows already encoded as COPY text (the backfill encodes straight from BSON
   * into bytes, bson-copy/). Same statement, result and errors; a failing line is named by
   * its 1-based number within this call.
   *
   * @example
   * declare const tx: TargetTransaction;
   * await tx.copyText({ schema: 'public', name: 'orders' }, ['id', 'total'], [Buffer.from('1\t9.50\n')]);
   */
  copyText(
    table: TableRef,
    columns: readonly string[],
    text: CopyText,
    options?: CopyOptions,
  ): Promise<number>;
}

export interface CopyOptions {
  /** Stops a long COPY; the transaction then rolls back. */
  readonly signal?: AbortSignal;
  /**
   * `copyText` only: the pieces are rows in PostgreSQL's binary format (copy-binary.ts); the
   * header and trailer are added here.
   */
  readonly format?: 'text' | 'binary';
}

/** Something that can run a transaction: the database, or one dedicated session of it. */
export interface Transactional {
  /**
   * Run `fn` inside BEGIN … COMMIT; a throw (or a failed COMMIT) rolls back and rethrows.
   * Use only `tx` inside `fn`: on PGlite, another query on the database waits for the
   * transaction to end, so it would wait forever.
   *
   * @example
   * declare const db: TargetDatabase;
   * declare const table: TableRef;
   * declare const columns: readonly string[];
   * declare const batches: CopyRows;
   * const copied = await db.transaction((tx) => tx.copyFrom(table, columns, batches));
   */
  transaction<T>(fn: (tx: TargetTransaction) => Promise<T>): Promise<T>;
}

/**
 * One connection held for as long as the caller needs it, for session state such as
 * advisory locks. Always `release()` it (in a `finally`).
 *
 * @example
 * declare const db: TargetDatabase;
 * const session = await db.acquire();
 * try {
 *   await session.query('select pg_advisory_lock($1)', [42]);
 *   await session.transaction((tx) => tx.query('select 1'));
 * } finally {
 *   await session.release();
 * }
 */
export interface TargetSession extends Queryable, Transactional {
  release(): Promise<void>;
}

/**
 * What a target does differently from another, declared by the target so that the rest of
 * Ferry branches on what it needs and never on which database it is talking to (`kind`).
 *
 * @example
 * declare const options: BackfillOptions;
 * declare const db: TargetDatabase;
 * const binary = options.binaryCopy !== false && db.capabilities.binaryCopy;
 */
export interface TargetCapabilities {
  /**
   * Binary COPY is the faster way in, so the backfill sends rows in binary format (PostgreSQL
   * then parses no text). True for a server, where binary rows stream batch by batch. False
   * for PGlite: its COPY reads one blob, which text lines can be cut into at line ends and
   * binary rows cannot, so a binary chunk would be held whole in memory.
   */
  readonly binaryCopy: boolean;
}

/**
 * The target database. Open one with `openTarget`, share it, `close()` it at the end.
 *
 * Concurrency: the `pg` target is a pool, so queries and transactions from different callers
 * run in parallel on different connections. PGlite is one backend in this process, so its
 * queries and transactions run one at a time, in call order; a session there is the same
 * backend as everything else (advisory locks always succeed, and still keep two processes
 * apart, because only one process may open a PGlite directory at a time).
 *
 * @example
 * const db = await openTarget(process.env.DATABASE_URL);
 * try {
 *   console.log(db.kind, db.location);   // 'postgres', 'postgres://ferry:***@db:5432/app'
 * } finally {
 *   await db.close();
 * }
 */
export interface TargetDatabase extends Queryable, Transactional {
  /** Which database this is, for people (status, logs); code branches on `capabilities`. */
  readonly kind: 'postgres' | 'pglite';
  readonly capabilities: TargetCapabilities;
  /** Where the data goes, safe to print: a URL with the password redacted, or a directory. */
  readonly location: string;
  acquire(): Promise<TargetSession>;
  close(): Promise<void>;
}
