import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Which failures are worth trying again, and how. Only failures where the same statement can
 * succeed a moment later are retried: a lost serialization race, a deadlock victim, a server
 * restarting or out of connection slots. A constraint violation or bad input fails the same
 * way every time, so it surfaces at once.
 */

/** SQLSTATEs that a retry can cure, with why (PostgreSQL Appendix A). */
export const RETRYABLE_SQLSTATES: ReadonlyMap<string, string> = new Map([
  ['40001', 'serialization_failure: another transaction won a race; rerun the transaction'],
  ['40P01', 'deadlock_detected: this transaction was chosen as the victim'],
  ['55P03', 'lock_not_available: a lock timeout or NOWAIT hit a held lock'],
  ['53300', 'too_many_connections: the server is out of connection slots for now'],
  ['53400', 'configuration_limit_exceeded: a transient resource limit'],
  ['57P01', 'admin_shutdown: the server is shutting down or restarting'],
  ['57P02', 'crash_shutdown: another backend crashed and the server is resetting'],
  ['57P03', 'cannot_connect_now: the server is starting up'],
  ['57P05', 'idle_session_timeout: the session was closed for idling'],
]);

/** Every `08xxx` (connection_exception) is retryable: the statement never ran or was cut off. */
const RETRYABLE_CLASS = '08';

/** Node socket errors meaning the connection went away, not that the request was wrong. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * The SQLSTATE or Node error code of `error` or the first error in its `cause` chain that has
 * one; `TargetError`s carry it as `sqlState`.
 *
 * @example
 * errorCode(new TargetError('…', { code: 'TARGET_QUERY_FAILED', category: 'input', sqlState: '23505' }))  // '23505'
 */
export function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    const { sqlState, code } = e as { sqlState?: unknown; code?: unknown };
    if (typeof sqlState === 'string') return sqlState;
    if (typeof code === 'string' && (/^[0-9A-Z]{5}$/.test(code) || code.startsWith('E'))) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * True when retrying can help (see the table above).
 *
 * @example
 * isRetryable({ code: '40001' })   // true
 * isRetryable({ code: '23505' })   // false
 */
export function isRetryable(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return false;
  return (
    RETRYABLE_SQLSTATES.has(code) || code.startsWith(RETRYABLE_CLASS) || RETRYABLE_NETWORK_CODES.has(code)
  );
}

export interface RetryOptions {
  readonly signal?: AbortSignal;
  /** Tries in all, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** The backoff's scale: try n waits a random time in [0, baseMs · 2^(n-1)). Default 100. */
  readonly baseMs?: number;
  /** The cap on one wait. Default 10 000. */
  readonly maxMs?: number;
  /** Told before each wait, for logging; `error` is what the failed try threw. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
}

/**
 * Run `fn` until it succeeds, a non-retryable error is thrown (rethrown at once), or
 * `maxAttempts` tries have failed (the last error is rethrown). Waits use exponential backoff
 * with full jitter, so many workers that failed together do not retry together. `fn` must
 * be safe to rerun: wrap a whole transaction, never one statement inside it.
 *
 * @example
 * await withRetry(() => db.transaction((tx) => loadChunk(tx, chunk)), { signal, maxAttempts: 5 });
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 10_000;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      const delayMs = Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : undefined).catch(
        (e: unknown) => {
          // The same error `throwIfAborted` gives, whether the abort came during a try or a wait.
          throw options.signal?.aborted ? options.signal.reason : e;
        },
      );
    }
  }
}
