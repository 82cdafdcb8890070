import { debugEnabled } from '../core/debug.js';
import type { CategoryOf } from '../core/error-codes.js';
import { FerryError, type FerryErrorOptions } from '../core/errors.js';
import type { TableRef } from './target-database.js';

/**
 * Errors from the target database, shaped so that row values stay out of messages and logs
 * (DESIGN.md, after postgres.js) while the SQLSTATE, table, line and column survive for
 * retry decisions and for the user. A server error's `detail` ("Key (id)=(42) already
 * exists", "Failing row contains (…)") and `where` ("COPY t, line 3, column n: "abc"") carry
 * row values, so they are only kept when `FERRY_DEBUG` is set.
 */

/** The fields `pg` and PGlite both put on a server error (pg-protocol's DatabaseError). */
interface ServerErrorFields {
  readonly code?: string;
  readonly message?: string;
  readonly detail?: string;
  readonly where?: string;
  readonly constraint?: string;
  readonly column?: string;
}

/** What a `TargetError` knows beyond FerryError: the SQLSTATE and where in a COPY it failed. */
export type TargetErrorOptions = TargetErrorFields &
  {
    readonly [C in TargetErrorCode]: { readonly code: C; readonly category: CategoryOf<C> };
  }[TargetErrorCode];

type TargetErrorCode = 'TARGET_QUERY_FAILED' | 'TARGET_COPY_FAILED' | 'TARGET_COPY_BAD_ROW';

interface TargetErrorFields {
  readonly sqlState?: string;
  readonly table?: TableRef;
  readonly line?: number;
  readonly column?: string;
  readonly cause?: unknown;
  readonly hint?: string;
}

/**
 * A failed statement or COPY on the target. `sqlState` is PostgreSQL's five-character code
 * (`23505`), so callers can decide without parsing text; `line` is the 1-based row of the
 * failing `copyFrom` call.
 *
 * @example
 * declare const tx: TargetTransaction;
 * declare const table: TableRef;
 * declare const rows: CopyRows;
 * try {
 *   await tx.copyFrom(table, ['id'], rows);
 * } catch (e) {
 *   if (e instanceof TargetError && e.sqlState === '23505') console.log('duplicate key in', e.table?.name);
 * }
 */
export class TargetError extends FerryError {
  readonly sqlState: string | undefined;
  readonly table: TableRef | undefined;
  readonly line: number | undefined;
  readonly column: string | undefined;

  constructor(message: string, options: TargetErrorOptions) {
    const { code, category, cause, hint } = options;
    // Each code comes with a category the catalogue allows for it (TargetErrorOptions).
    super(message, { code, category, cause, hint } as FerryErrorOptions);
    this.name = 'TargetError';
    this.sqlState = options.sqlState;
    this.table = options.table;
    this.line = options.line;
    this.column = options.column;
  }
}

/** `"schema"."name"` for messages. */
export function tableLabel(table: TableRef): string {
  return `"${table.schema.replaceAll('"', '""')}"."${table.name.replaceAll('"', '""')}"`;
}

/**
 * The server's message without row values. Data exceptions (class 22) quote the offending
 * input after a colon (`invalid input syntax for type integer: "abc"`); every other class
 * names only objects in its message and puts values in `detail`.
 *
 * @example
 * safeServerMessage({ code: '22P02', message: 'invalid input syntax for type uuid: "x"' })
 * // 'invalid input syntax for type uuid'
 */
export function safeServerMessage(error: ServerErrorFields): string {
  const message = error.message ?? 'unknown error';
  if (!error.code?.startsWith('22')) return message;
  const colon = message.indexOf(': ');
  return colon === -1 ? message : message.slice(0, colon);
}

/**
 * A server or driver error from `query` as a `TargetError`. SQL text is not included: it is
 * Ferry's own and may be long; parameters are row values.
 */
export function queryError(cause: unknown, debug = debugEnabled()): TargetError {
  const fields = cause as ServerErrorFields;
  const sqlState = sqlStateCode(fields.code);
  const message = debug ? debugMessage(fields) : safeServerMessage(fields);
  return new TargetError(`query on the target failed: ${message}${sqlState ? ` [${sqlState}]` : ''}`, {
    code: 'TARGET_QUERY_FAILED',
    category: categoryFor(sqlState, fields.code),
    ...(sqlState === undefined ? {} : { sqlState }),
    cause: debug ? cause : sanitizedCause(fields, message),
  });
}

const COPY_WHERE = /\bline (\d+)(?:, column ([^:]+))?/;

/**
 * A failed COPY as a `TargetError` naming the table, the 1-based row within the `copyFrom`
 * call (`lineOffset` is added to the line the server reports, for targets that COPY a
 * call's rows in several statements) and the column when the server says which.
 */
export function copyError(
  cause: unknown,
  table: TableRef,
  lineOffset = 0,
  debug = debugEnabled(),
): TargetError {
  if (cause instanceof TargetError) return cause;
  const fields = cause as ServerErrorFields;
  const sqlState = sqlStateCode(fields.code);
  const where = COPY_WHERE.exec(fields.where ?? '');
  const line = where ? Number(where[1]) + lineOffset : undefined;
  const column = where?.[2] ?? fields.column;
  const message = debug ? debugMessage(fields) : safeServerMessage(fields);
  const at = [line === undefined ? '' : `line ${line}`, column === undefined ? '' : `column "${column}"`]
    .filter(Boolean)
    .join(', ');
  return new TargetError(
    `COPY into ${tableLabel(table)} failed${at ? ` at ${at}` : ''}: ${message}${sqlState ? ` [${sqlState}]` : ''}`,
    {
      code: 'TARGET_COPY_FAILED',
      category: categoryFor(sqlState, fields.code),
      ...(sqlState === undefined ? {} : { sqlState }),
      table,
      ...(line === undefined ? {} : { line }),
      ...(column === undefined ? {} : { column }),
      cause: debug ? cause : sanitizedCause(fields, message),
      hint: debug ? undefined : 'set FERRY_DEBUG=1 to include the row values in this message',
    },
  );
}

function debugMessage(fields: ServerErrorFields): string {
  return [fields.message ?? 'unknown error', fields.detail, fields.where && `(${fields.where})`]
    .filter(Boolean)
    .join(' ');
}

/** The cause without detail/where, so a logger that prints causes cannot leak row values. */
function sanitizedCause(fields: ServerErrorFields, message: string): Error {
  const error = new Error(message) as Error & { code?: string; constraint?: string };
  if (fields.code !== undefined) error.code = fields.code;
  if (fields.constraint !== undefined) error.constraint = fields.constraint;
  return error;
}

function sqlStateCode(code: string | undefined): string | undefined {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Connection trouble is the environment (exit 3); a rejected row or statement is input (exit 2). */
function categoryFor(
  sqlState: string | undefined,
  code: string | undefined,
): CategoryOf<'TARGET_QUERY_FAILED' | 'TARGET_COPY_FAILED'> {
  if (sqlState === undefined) return code?.startsWith('E') ? 'environment' : 'internal';
  if (/^(08|53|57|58)/.test(sqlState)) return 'environment';
  if (/^(22|23)/.test(sqlState)) return 'input';
  if (/^(40|55)/.test(sqlState)) return 'environment';
  return 'internal';
}
