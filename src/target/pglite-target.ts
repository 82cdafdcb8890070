import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { FerryError } from '../core/errors.js';
import { ferryTypes } from '../mapping/pg-parsers.js';
import { copyStatement, encodeCopyPieces, framedBinary } from './copy-stream.js';
import { lockDirectory } from './dir-lock.js';
import { DEFAULT_EMBEDDED_DIR } from './embedded-dir.js';
import type {
  CopyOptions,
  CopyRows,
  CopyText,
  QueryResult,
  TableRef,
  TargetCapabilities,
  TargetDatabase,
  TargetSession,
  TargetTransaction,
} from './target-database.js';
import { copyError, queryError } from './target-error.js';

/**
 * The embedded target: PostgreSQL compiled to WASM (PGlite), its files in a directory.
 *
 * COPY: PGlite has no COPY FROM STDIN. It offers a virtual device instead: a query given
 * `{ blob }` can read that Blob as the server-side file `/dev/blob`, so `copyFrom` runs
 * `COPY … FROM '/dev/blob'` with the same COPY text the `pg` path streams. PGlite copies the
 * whole Blob into memory first, so the rows go in slices of about `BLOB_CHARS` characters,
 * one COPY each, all in the caller's transaction; the row numbers in errors still count from
 * the start of the call.
 *
 * Concurrency: one backend, so PGlite runs one query or transaction at a time; a `query`
 * issued while a transaction runs waits for it to end.
 */

/** Encoded characters per `/dev/blob` slice: big enough to amortise a COPY, small enough to hold twice. */
const BLOB_CHARS = 8 * 1024 * 1024;

export { DEFAULT_EMBEDDED_DIR };

export interface PgliteTargetOptions {
  /** The data directory; default `./.ferry/pglite`. Created when missing. */
  readonly dir?: string;
  /** Encoded characters per `/dev/blob` slice (default 8 Mi); small values exercise slicing in tests. */
  readonly blobChars?: number;
}

/**
 * Open (creating on first use) the embedded database. Only one process may hold a data
 * directory at a time; a second gets `TARGET_EMBEDDED_LOCKED` (exit 3).
 *
 * @example
 * const db = await openPgliteTarget({ dir: '.ferry/pglite' });
 * await db.query('select 1');
 * await db.close();
 */
export async function openPgliteTarget(options: PgliteTargetOptions = {}): Promise<TargetDatabase> {
  const dir = path.resolve(options.dir ?? DEFAULT_EMBEDDED_DIR);
  try {
    mkdirSync(path.dirname(dir), { recursive: true });
  } catch (cause) {
    throw embeddedError(dir, cause);
  }
  const unlock = lockDirectory(`${dir}.lock`, dir);
  let db: PGlite | undefined;
  try {
    db = await PGlite.create(dir);
    await useFerryParsers(db);
  } catch (cause) {
    await db?.close().catch(() => {});
    unlock();
    throw embeddedError(dir, cause);
  }
  return new PgliteTarget(db, dir, unlock, options.blobChars ?? BLOB_CHARS);
}

/**
 * Read every built-in type with the same parser the `pg` path uses (pg-parsers.ts), so a row
 * is the same JS value on both targets and `toDoc` cannot tell them apart. PGlite's own
 * defaults differ (bytea as Uint8Array, timestamptz as Date, int8 as number, jsonb parsed).
 * Set on the instance rather than per query because PGlite merges per-query parsers into a
 * fresh object on every query.
 */
async function useFerryParsers(db: PGlite): Promise<void> {
  const { rows } = await db.query<{ oid: number }>('select oid::int4 as oid from pg_catalog.pg_type');
  for (const { oid } of rows) {
    const parse = ferryTypes.getTypeParser(oid, 'text') as (text: string) => unknown;
    // PGlite passes the type id as a second argument; pg's parsers take one.
    db.parsers[oid] = (text: string) => parse(text);
  }
}

function embeddedError(dir: string, cause: unknown): FerryError {
  if (cause instanceof FerryError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FerryError(`cannot open the embedded database at ${dir}: ${reason}`, {
    code: 'TARGET_EMBEDDED_FAILED',
    category: 'environment',
    class: 'terminal',
    cause,
    hint: 'check the directory is writable, or give a PostgreSQL server with --target or DATABASE_URL',
  });
}

type Runner = Pick<PGlite, 'query'> | Pick<Transaction, 'query'>;

class PgliteTarget implements TargetDatabase {
  readonly kind = 'pglite';
  readonly capabilities: TargetCapabilities = { binaryCopy: false };

  constructor(
    private readonly db: PGlite,
    readonly location: string,
    private readonly unlock: () => void,
    private readonly blobChars: number,
  ) {}

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return runQuery<R>(this.db, sql, params);
  }

  async transaction<T>(fn: (tx: TargetTransaction) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction((tx) => fn(new PgliteTransaction(tx, this.blobChars)));
    } catch (error) {
      // Our own errors pass through; PGlite's (a failed BEGIN or COMMIT) get the usual shape.
      throw error instanceof FerryError || !isServerError(error) ? error : queryError(error);
    }
  }

  async acquire(): Promise<TargetSession> {
    // One backend: every session is the same one, and PGlite already runs its work in order.
    return {
      query: (sql, params) => this.query(sql, params),
      transaction: (fn) => this.transaction(fn),
      release: async () => {},
    };
  }

  async close(): Promise<void> {
    try {
      if (!this.db.closed) await this.db.close();
    } finally {
      this.unlock();
    }
  }
}

class PgliteTransaction implements TargetTransaction {
  constructor(
    private readonly tx: Transaction,
    private readonly blobChars: number,
  ) {}

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return runQuery<R>(this.tx, sql, params);
  }

  async runScript(sql: string): Promise<void> {
    try {
      await this.tx.exec(sql);
    } catch (cause) {
      throw queryError(cause);
    }
  }

  copyFrom(
    table: TableRef,
    columns: readonly string[],
    rows: CopyRows,
    options: CopyOptions = {},
  ): Promise<number> {
    const pieceChars = Math.min(64 * 1024, this.blobChars);
    const pieces = encodeCopyPieces(table, columns, rows, { rows: 0 }, pieceChars, options.signal);
    return this.copyText(table, columns, pieces, options);
  }

  async copyText(
    table: TableRef,
    columns: readonly string[],
    text: CopyText,
    options: CopyOptions = {},
  ): Promise<number> {
    if (options.format === 'binary') return this.#copyBinary(table, columns, text, options);
    const sql = copyStatement(table, columns, "'/dev/blob'");
    let parts: (string | Uint8Array)[] = [];
    let size = 0;
    let linesBefore = 0;
    let copied = 0;
    const flush = async () => {
      if (parts.length === 0) return;
      const blob = new Blob(parts);
      const lines = parts.reduce((n, part) => n + countLines(part), 0);
      parts = [];
      size = 0;
      try {
        const result = await this.tx.query(sql, [], { blob });
        copied += result.rowCount ?? result.affectedRows ?? 0;
      } catch (cause) {
        throw copyError(cause, table, linesBefore);
      }
      linesBefore += lines;
    };
    for await (const piece of text) {
      options.signal?.throwIfAborted();
      for (const part of splitAtLines(piece, this.blobChars)) {
        parts.push(part);
        size += part.length;
        if (size >= this.blobChars) await flush();
      }
    }
    options.signal?.throwIfAborted();
    await flush();
    return copied;
  }

  /** Binary rows in one blob: they carry no line ends to cut at. */
  async #copyBinary(
    table: TableRef,
    columns: readonly string[],
    text: CopyText,
    options: CopyOptions,
  ): Promise<number> {
    const parts: (string | Uint8Array)[] = [];
    for await (const piece of framedBinary(text)) {
      options.signal?.throwIfAborted();
      parts.push(piece);
    }
    try {
      const result = await this.tx.query(copyStatement(table, columns, "'/dev/blob'", 'binary'), [], {
        blob: new Blob(parts),
      });
      return result.rowCount ?? result.affectedRows ?? 0;
    } catch (cause) {
      throw copyError(cause, table);
    }
  }
}

function countLines(part: string | Uint8Array): number {
  let lines = 0;
  if (typeof part === 'string') {
    for (let at = part.indexOf('\n'); at >= 0; at = part.indexOf('\n', at + 1)) lines++;
    return lines;
  }
  for (let at = part.indexOf(0x0a); at >= 0; at = part.indexOf(0x0a, at + 1)) lines++;
  return lines;
}

/** A byte piece in slices of about `max` bytes that end at line ends (one long line stays whole). */
function* splitAtLines(piece: string | Uint8Array, max: number): Generator<string | Uint8Array> {
  if (typeof piece === 'string' || piece.length <= max) {
    yield piece;
    return;
  }
  let from = 0;
  while (from < piece.length) {
    let to = piece.lastIndexOf(0x0a, Math.min(from + max, piece.length) - 1) + 1;
    if (to <= from) to = piece.indexOf(0x0a, from) + 1 || piece.length;
    yield piece.subarray(from, to);
    from = to;
  }
}

async function runQuery<R>(
  on: Runner,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  try {
    const result = await on.query<R>(sql, params as unknown[] | undefined);
    return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? 0 };
  } catch (cause) {
    throw queryError(cause);
  }
}

function isServerError(error: unknown): boolean {
  return typeof (error as { code?: unknown }).code === 'string';
}
