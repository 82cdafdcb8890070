import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Which failures are worth trying again, and for how long. Only failures where the same
 * statement can succeed later are retried: a lost serialization race, a deadlock victim, a
 * server restarting or out of connection slots. A constraint violation or bad input fails the
 * same way every time, so it surfaces at once.
 */

/**
 * How long a kind of failure is worth waiting out. A server restart takes seconds to a couple
 * of minutes (shutdown checkpoint, crash recovery, a failover); a lost serialization race or
 * a deadlock clears in milliseconds, and if it keeps happening, waiting minutes will not help.
 */
export type RetryScheduleName = 'restart' | 'contention' | 'resources';

/** One schedule: try n waits a random time in [0, min(maxMs, baseMs · 2^(n-1))) (full jitter). */
export interface RetrySchedule {
  readonly baseMs: number;
  /** The cap on one wait. */
  readonly maxMs: number;
  /** Tries in all, the first included. */
  readonly maxAttempts: number;
  /** Give up once this long has passed since the first failure of this kind. */
  readonly budgetMs: number;
}

export const RETRY_SCHEDULES: Readonly<Record<RetryScheduleName, RetrySchedule>> = {
  // About 2 minutes: PostgreSQL's own pg_ctl waits 60 s for a start, and a managed failover
  // is typically done within 30–120 s.
  restart: { baseMs: 200, maxMs: 5_000, maxAttempts: 100, budgetMs: 120_000 },
  contention: { baseMs: 20, maxMs: 1_000, maxAttempts: 8, budgetMs: 10_000 },
  resources: { baseMs: 500, maxMs: 5_000, maxAttempts: 30, budgetMs: 60_000 },
};

/** A retryable SQLSTATE: why a retry can cure it (PostgreSQL Appendix A), and how long to try. */
export interface RetryRule {
  readonly why: string;
  readonly schedule: RetryScheduleName;
}

/** SQLSTATEs that a retry can cure. */
export const RETRYABLE_SQLSTATES: ReadonlyMap<string, RetryRule> = new Map([
  ['40001', { why: 'serialization_failure: another transaction won a race', schedule: 'contention' }],
  ['40P01', { why: 'deadlock_detected: this transaction was chosen as the victim', schedule: 'contention' }],
  ['55P03', { why: 'lock_not_available: a lock timeout or NOWAIT hit a held lock', schedule: 'contention' }],
  ['53300', { why: 'too_many_connections: the server is out of connection slots', schedule: 'resources' }],
  ['53400', { why: 'configuration_limit_exceeded: a transient resource limit', schedule: 'resources' }],
  ['57P01', { why: 'admin_shutdown: the server is shutting down or restarting', schedule: 'restart' }],
  [
    '57P02',
    { why: 'crash_shutdown: another backend crashed and the server is resetting', schedule: 'restart' },
  ],
  ['57P03', { why: 'cannot_connect_now: the server is starting up', schedule: 'restart' }],
  ['57P05', { why: 'idle_session_timeout: the session was closed for idling', schedule: 'restart' }],
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
 * `pg` reports a connection that died under it with a plain Error and no code; these are its
 * words (pg/lib/client.js), and each means the server went away, not that the query was wrong.
 */
const BROKEN_CONNECTION_MESSAGES =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|terminating connection due to administrator command/i;

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
 * The schedule a failure is retried on, or undefined when retrying cannot help.
 *
 * @example
 * retrySchedule({ code: '57P03' })   // 'restart'
 * retrySchedule({ code: '40001' })   // 'contention'
 * retrySchedule({ code: '23505' })   // undefined
 */
export function retrySchedule(error: unknown): RetryScheduleName | undefined {
  const code = errorCode(error);
  if (code !== undefined) {
    const rule = RETRYABLE_SQLSTATES.get(code);
    if (rule !== undefined) return rule.schedule;
    if (code.startsWith(RETRYABLE_CLASS) || RETRYABLE_NETWORK_CODES.has(code)) return 'restart';
    return undefined;
  }
  return brokenConnection(error) ? 'restart' : undefined;
}

/**
 * True when retrying can help (see the table above).
 *
 * @example
 * isRetryable({ code: '40001' })   // true
 * isRetryable({ code: '23505' })   // false
 */
export function isRetryable(error: unknown): boolean {
  return retrySchedule(error) !== undefined;
}

function brokenConnection(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (BROKEN_CONNECTION_MESSAGES.test(e.message)) return true;
    e = e.cause;
  }
  return false;
}

export interface RetryOptions {
  readonly signal?: AbortSignal;
  /** Overrides every schedule's `maxAttempts`. */
  readonly maxAttempts?: number;
  /** Overrides every schedule's `baseMs`. */
  readonly baseMs?: number;
  /** Overrides every schedule's `maxMs`. */
  readonly maxMs?: number;
  /** Overrides parts of single schedules. */
  readonly schedules?: Partial<Record<RetryScheduleName, Partial<RetrySchedule>>>;
  /** Told before each wait, for logging; `error` is what the failed try threw. */
  readonly onRetry?: (info: {
    attempt: number;
    delayMs: number;
    error: unknown;
    schedule: RetryScheduleName;
  }) => void;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
  /** Injected for tests; defaults to the wall clock and a real, abortable wait. */
  readonly clock?: RetryClock;
}

/** Time as `withRetry` sees it. */
export interface RetryClock {
  now(): number;
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
}

const realClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined),
};

/**
 * Run `fn` until it succeeds, a non-retryable error is thrown (rethrown at once), or the
 * failure's schedule is used up (the last error is rethrown). Each kind of failure has its
 * own schedule (`RETRY_SCHEDULES`): a server restart is waited out for about two minutes, a
 * lost race for a few tries. Waits use exponential backoff with full jitter, so many workers
 * that failed together do not retry together, and end at once when `signal` aborts. `fn`
 * must be safe to rerun: wrap a whole transaction, never one statement inside it.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const db: TargetDatabase;
 * declare const chunk: readonly Document[];
 * declare const signal: AbortSignal;
 * declare function loadChunk(tx: TargetTransaction, chunk: readonly Document[]): Promise<void>;
 * await withRetry(() => db.transaction((tx) => loadChunk(tx, chunk)), { signal });
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const random = options.random ?? Math.random;
  const clock = options.clock ?? realClock;
  // Per schedule: failures so far (the backoff's exponent) and when the first one happened.
  const streaks = new Map<RetryScheduleName, { failures: number; since: number }>();
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      const name = retrySchedule(error);
      if (name === undefined) throw error;
      const schedule = scheduleFor(name, options);
      const now = clock.now();
      const streak = streaks.get(name) ?? { failures: 0, since: now };
      streak.failures++;
      streaks.set(name, streak);
      const remaining = streak.since + schedule.budgetMs - now;
      if (streak.failures >= schedule.maxAttempts || remaining <= 0) throw error;
      const ceiling = Math.min(schedule.maxMs, schedule.baseMs * 2 ** (streak.failures - 1));
      const delayMs = Math.min(remaining, Math.floor(random() * ceiling));
      options.onRetry?.({ attempt, delayMs, error, schedule: name });
      await clock.sleep(delayMs, options.signal).catch((e: unknown) => {
        // The same error `throwIfAborted` gives, whether the abort came during a try or a wait.
        throw options.signal?.aborted ? options.signal.reason : e;
      });
    }
  }
}

function scheduleFor(name: RetryScheduleName, options: RetryOptions): RetrySchedule {
  return {
    ...RETRY_SCHEDULES[name],
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: Math.max(1, options.maxAttempts) }),
    ...(options.baseMs === undefined ? {} : { baseMs: options.baseMs }),
    ...(options.maxMs === undefined ? {} : { maxMs: options.maxMs }),
    ...options.schedules?.[name],
  };
}
