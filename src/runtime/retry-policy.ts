import { MongoError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { isRetryable as isRetryablePostgres, withRetry } from '../target/retry.js';

/**
 * The runtime's one retry policy for both stores (issue 13, "Retries"). The PostgreSQL side
 * is the backfill's table of retryable SQLSTATEs (serialization, deadlock, admin shutdown,
 * the connection class, socket errors; src/target/retry.ts); the MongoDB side is the driver's
 * own notion of a transient failure: a network error, no server to select, an error the
 * server labels retryable, or one of MongoDB's retryable server codes (a primary stepping
 * down, a shutdown in progress).
 */

/**
 * MongoDB server codes that the server itself documents as retryable (the retryable-writes
 * specification): the operation may succeed on the next primary or after a restart.
 */
const RETRYABLE_MONGO_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Error labels under which the driver or the server says the operation may succeed if tried again. */
const TRANSIENT_LABELS = [
  'RetryableWriteError',
  'TransientTransactionError',
  'RetryableError',
  'SystemOverloadedError',
];

/**
 * Whether a MongoDB error is worth trying again.
 *
 * @example
 * import { MongoNetworkError } from 'mongodb';
 * isTransientMongoError(new MongoNetworkError('connection reset'))   // true
 */
export function isTransientMongoError(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof MongoNetworkError || e instanceof MongoServerSelectionError) return true;
    if (e instanceof MongoError) {
      // The driver (7.x) also labels a connection it could not open while a server is away
      // (a refused connect during checkout, reported through a MongoBulkWriteError) with
      // `RetryableError` and `SystemOverloadedError`: the outage, not the write, failed.
      const labelled = e;
      if (TRANSIENT_LABELS.some((label) => labelled.hasErrorLabel(label))) return true;
      if (typeof e.code === 'number' && RETRYABLE_MONGO_CODES.has(e.code)) return true;
    }
    e = e.cause;
  }
  return false;
}

/**
 * Whether an error from either store is transient: retrying the same work can succeed.
 *
 * @example
 * isTransientError({ code: '40P01' })   // true: a deadlock victim
 * isTransientError({ code: '23505' })   // false: a duplicate key stays a duplicate
 */
export function isTransientError(error: unknown): boolean {
  return isRetryablePostgres(error) || isTransientMongoError(error);
}

/**
 * How hard the runtime tries before it gives up (and records a gap).
 *
 * @example
 * import type { Collection } from 'mongodb';
 * declare const collection: Collection;
 * const options: RuntimeRetryOptions = { maxAttempts: 6, baseMs: 100, maxMs: 5000 };
 * const n = await withTransientRetry(() => collection.countDocuments(), options);
 */
export interface RuntimeRetryOptions {
  /** Tries in all, the first included. Default 4: a mirror gives up quickly and leaves a gap. */
  readonly maxAttempts?: number;
  /** Try n waits a random time in [0, baseMs · 2^(n-1)). Default 50. */
  readonly baseMs?: number;
  /** The cap on one wait. Default 2000. */
  readonly maxMs?: number;
  readonly signal?: AbortSignal;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
}

/**
 * Run `fn` until it succeeds, throws a non-transient error (rethrown at once), or has failed
 * `maxAttempts` times (the last error is rethrown). The loop and its backoff (exponential,
 * full jitter, so app instances that failed together do not retry together) are the
 * backfill's `withRetry`: a transient MongoDB error is handed to it marked with a retryable
 * code, and unwrapped again if it is the one that ends the tries. `fn` must be safe to rerun:
 * a whole PostgreSQL transaction, or an idempotent MongoDB read.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * import type { Collection } from 'mongodb';
 * declare const collection: Collection;
 * declare const ids: ObjectId[];
 * const docs = await withTransientRetry(() => collection.find({ _id: { $in: ids } }).toArray());
 */
export async function withTransientRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RuntimeRetryOptions = {},
): Promise<T> {
  try {
    return await withRetry(
      async (attempt) => {
        try {
          return await fn(attempt);
        } catch (error) {
          throw !isRetryablePostgres(error) && isTransientMongoError(error)
            ? new TransientMongo(error)
            : error;
        }
      },
      {
        maxAttempts: options.maxAttempts ?? 4,
        baseMs: options.baseMs ?? 50,
        maxMs: options.maxMs ?? 2000,
        ...(options.signal && { signal: options.signal }),
        ...(options.random && { random: options.random }),
      },
    );
  } catch (error) {
    throw error instanceof TransientMongo ? error.original : error;
  }
}

/** A transient MongoDB error, carrying a code `withRetry` retries on. */
class TransientMongo extends Error {
  readonly code = 'ECONNRESET';
  constructor(readonly original: unknown) {
    super('transient MongoDB error');
  }
}
