import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { FerryError } from '../../core/errors.js';

/** Where an error happened, in words a user recognises; never contains credentials. */
export interface MongoErrorContext {
  /** `host:port[,host:port]` from the URI, without user information. */
  readonly hosts: string;
  /** The database in use, or undefined when the source spans all databases. */
  readonly database?: string;
  /** The collection being read, when there is one. */
  readonly collection?: string;
  /** Whether the URI carried credentials (decides how an ambiguous refusal is read). */
  readonly withCredentials: boolean;
}

/** MongoDB server codes meaning "who you are" or "what you may do" was refused. */
const AUTH_CODES = new Set([
  18, // AuthenticationFailed
  13, // Unauthorized
  11, // UserNotFound
]);

/**
 * Turn anything the driver throws into a FerryError with a stable code:
 * - `SOURCE_UNREACHABLE` (environment, transient): no server answered, or the connection broke.
 * - `SOURCE_AUTH_FAILED` (environment, terminal): the server refused the credentials or the
 *   privileges.
 * - `SOURCE_QUERY_FAILED` (environment, terminal): the server answered with any other error.
 *
 * The message names hosts, database and collection, never the password: the URI is not put
 * into it at all, and FerryError redacts anything URI-shaped anyway.
 *
 * @example
 * import type { MongoClient } from 'mongodb';
 * declare const client: MongoClient;
 * declare const context: MongoErrorContext;
 * try { await client.connect(); } catch (cause) { throw mongoError(context, cause); }
 */
export function mongoError(context: MongoErrorContext, cause: unknown): FerryError {
  if (cause instanceof FerryError) return cause;
  const place = describePlace(context);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const code = cause instanceof MongoError ? cause.code : undefined;
  const where = context.collection === undefined ? {} : { where: { collection: context.collection } };

  if (typeof code === 'number' && AUTH_CODES.has(code)) {
    const unsupportedMechanism = /unsupported authentication mechanism/i.test(reason);
    return new FerryError(`MongoDB at ${place} refused the credentials: ${reason}`, {
      code: 'SOURCE_AUTH_FAILED',
      category: 'environment',
      class: 'terminal',
      cause,
      ...where,
      hint: unsupportedMechanism
        ? 'this server does not support the default SCRAM mechanism; FerretDB 1.x needs ?authMechanism=PLAIN in the URI'
        : 'check the user name, password, authSource and the user’s roles',
    });
  }
  // FerretDB 1.x (PostgreSQL handler) accepts any PLAIN handshake and passes the credentials
  // on to PostgreSQL; when PostgreSQL refuses them the client only sees InternalError (code 1)
  // "...pool.checkConnection] failed to connect". With credentials in the URI that is a
  // refusal of those credentials; without, FerretDB could not reach its own storage.
  if (code === 1 && /checkConnection|failed to connect/i.test(reason)) {
    return context.withCredentials
      ? new FerryError(
          `MongoDB at ${place} refused the credentials (the server could not open its storage with them)`,
          {
            code: 'SOURCE_AUTH_FAILED',
            category: 'environment',
            class: 'terminal',
            cause,
            ...where,
            hint: 'check the user name and password in the URI',
          },
        )
      : unreachable(place, 'the server could not reach its own storage', cause, where);
  }
  if (cause instanceof MongoServerSelectionError || cause instanceof MongoNetworkError) {
    return unreachable(place, reason, cause, where);
  }
  return new FerryError(`MongoDB at ${place} failed: ${reason}`, {
    code: 'SOURCE_QUERY_FAILED',
    category: 'environment',
    class: 'terminal',
    cause,
    ...where,
  });
}

function unreachable(
  place: string,
  reason: string,
  cause: unknown,
  where: { where?: { collection: string } },
): FerryError {
  return new FerryError(`cannot reach MongoDB at ${place}: ${reason}`, {
    code: 'SOURCE_UNREACHABLE',
    category: 'environment',
    class: 'transient',
    cause,
    ...where,
    hint: 'is the server running and the address right? (--source / the mongodb:// URI)',
  });
}

function describePlace(context: MongoErrorContext): string {
  const database = context.database === undefined ? 'all databases' : `database ${context.database}`;
  return `${context.hosts} (${database})`;
}

/** The driver's "this cursor is gone" (idle timeout, session expiry): safe to reopen. */
export function isCursorLost(error: unknown): boolean {
  return (
    error instanceof MongoError &&
    (error.code === 43 || (error as { codeName?: unknown }).codeName === 'CursorNotFound')
  );
}

/** The server cannot evaluate this filter (an unknown `$type` alias on FerretDB 1.24). */
export function isUnsupportedFilter(error: unknown): boolean {
  // 2 BadValue ("Unknown type name alias"), 238 NotImplemented ("Type code 19 not implemented").
  return error instanceof MongoError && (error.code === 2 || error.code === 238);
}
