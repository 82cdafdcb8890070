import { performance } from 'node:perf_hooks';
import { FerryError } from '../../core/errors.js';
import { errorCode } from '../../target/retry.js';
import type { Queryable } from '../../target/target-database.js';
import {
  feedsMongo,
  isPhase,
  type Phase,
  type PhaseChange,
  recordPhaseChange,
  unknownDomain,
} from '../domains.js';
import type { RuntimeStores } from '../entity-copy.js';
import { deliverPendingNow } from '../outbox/worker.js';
import { reconcileGaps } from '../reconcile.js';
import { targetOf } from '../stores.js';
import { domainLockKey, mongoIsPrimary } from './primary-lock.js';

/**
 * The coherent phase change (DESIGN.md runtime rule 3). First, while the application still
 * writes, the bulk of what the direction needs is drained (gaps reconciled, or the outbox
 * delivered): only what arrives after that is left for the pause. Then one PostgreSQL
 * transaction:
 *
 * 1. takes the domain's lock exclusively, waiting at most `lockTimeoutMs`: the writes in
 *    flight (each holds the lock shared) finish, and new ones queue behind the flip;
 * 2. drains what the direction needs, inside that pause: moving the primary to PostgreSQL,
 *    the domain's open gaps are reconciled (PostgreSQL must hold MongoDB's whole state before
 *    it takes writes); moving it back, or retiring MongoDB, the domain's outbox is delivered
 *    (MongoDB must hold PostgreSQL's whole state). What cannot be drained refuses the flip;
 *    the transaction rolls back, and nothing changed;
 * 3. changes the phase with its audit row and notification (`recordPhaseChange`), and commits.
 *
 * The queued writes then read the new phase under the lock, so no write reaches the old
 * primary after the change commits. The pause, from asking for the lock to the commit, is
 * measured and added to the audit row's figures.
 */

/**
 * What a flip did and how long writes were paused.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const flip: FlipReport = await flipPhase(stores, 'money', 'pg_primary', { change: { reason: 'gates passed' } });
 * console.log(`${flip.from} → ${flip.to}: writes paused ${flip.pauseMs} ms`);
 */
export interface FlipReport {
  readonly domain: string;
  readonly from: Phase;
  readonly to: Phase;
  readonly eventId: number;
  /** From asking for the domain lock to the commit: how long new writes waited at most. */
  readonly pauseMs: number;
  /** Waiting for the writes in flight. */
  readonly waitMs: number;
  /** Reconciling gaps or delivering the outbox inside the pause. */
  readonly drainMs: number;
  /** Gaps of the domain closed during the pause. */
  readonly gapsClosed: number;
  /** Outbox events delivered during the pause. */
  readonly eventsDelivered: number;
  /** The drain before the pause, while writes went on: not part of `pauseMs`. */
  readonly beforePause: {
    readonly ms: number;
    readonly gapsClosed: number;
    readonly eventsDelivered: number;
  };
}

/**
 * How a flip runs.
 *
 * @example
 * const options: FlipOptions = { change: { reason: 'drill', figures: { gates: [] } }, lockTimeoutMs: 2000 };
 */
export interface FlipOptions {
  readonly change: PhaseChange;
  /** The longest wait for the writes in flight; default 5000 ms. */
  readonly lockTimeoutMs?: number;
  /** The longest the outbox delivery inside the pause may take; default 30 s. */
  readonly drainTimeoutMs?: number;
  /** Refuse unless the domain is in this phase when the lock is granted. */
  readonly expectFrom?: Phase;
}

/**
 * Move `domain` to phase `to` coherently (see above). Any two phases may be given; the drain
 * is chosen by which store is the primary before and after, and whether MongoDB was fed.
 *
 * @example
 * import type { MongoClient } from 'mongodb';
 * import type pg from 'pg';
 * declare const client: MongoClient;
 * declare const pool: pg.Pool;
 * declare const plan: Plan;
 * const stores = { mongo: client.db('shop'), pg: pool, plan, schema: 'public' };
 * const flip = await flipPhase(stores, 'money', 'pg_primary', { change: { reason: 'gates passed' }, lockTimeoutMs: 5000 });
 * console.log(flip.pauseMs);
 */
export async function flipPhase(
  stores: RuntimeStores,
  domain: string,
  to: Phase,
  options: FlipOptions,
): Promise<FlipReport> {
  const lockTimeoutMs = Math.max(1, Math.floor(options.lockTimeoutMs ?? 5000));
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const db = targetOf(stores.pg);
  const beforePause = await drainBeforePause(stores, domain, to, drainTimeoutMs);
  const asked = performance.now();
  const result = await db.transaction(async (tx) => {
    await tx.query(`set local lock_timeout = '${lockTimeoutMs}ms'`);
    try {
      await tx.query(`select pg_advisory_xact_lock(${domainLockKey(domain)})`);
    } catch (error) {
      if (errorCode(error) === '55P03') throw lockTimeout(domain, lockTimeoutMs, error);
      throw error;
    }
    const granted = performance.now();
    const { from, collections } = await lockedDomain(tx, domain);
    if (options.expectFrom !== undefined && from !== options.expectFrom)
      throw new FerryError(
        `domain "${domain}" moved to ${from} while the flip waited (it expected ${options.expectFrom}); nothing changed`,
        {
          code: 'CUTOVER_GATE_FAILED',
          category: 'problem',
          hint: 'look at `ferry status` and run the command again',
        },
      );
    const drained = await drain(stores, domain, collections, from, to, drainTimeoutMs);
    const drainMs = performance.now() - granted;
    const figures = {
      ...options.change.figures,
      pause: { waitMs: round(granted - asked), drainMs: round(drainMs), ...drained, beforePause },
    };
    const transition = await recordPhaseChange(tx, domain, to, { ...options.change, figures });
    return { transition, waitMs: granted - asked, drainMs, drained };
  });
  const pauseMs = round(performance.now() - asked);
  // The commit is part of the pause, so the total is known only now; the audit row gets it.
  await db.query(
    `update ferry.domain_events
        set figures = jsonb_set(figures, '{pause,pauseMs}', to_jsonb($2::numeric)) where id = $1`,
    [result.transition.eventId, pauseMs],
  );
  return {
    domain,
    from: result.transition.from,
    to,
    eventId: result.transition.eventId,
    pauseMs,
    waitMs: round(result.waitMs),
    drainMs: round(result.drainMs),
    gapsClosed: result.drained.gapsClosed,
    eventsDelivered: result.drained.eventsDelivered,
    beforePause,
  };
}

/**
 * What the pause would drain, drained before it while writes still flow, so the pause holds
 * only what arrived since: the bulk of a backlog (gaps left by an outage, an outbox behind)
 * would otherwise keep every write waiting. Reads the phase without the lock; if it moves
 * meanwhile, the drain inside the pause still does the whole job. Gaps are reconciled once;
 * the outbox is delivered, other workers' claims included, until no more than
 * `PAUSE_BACKLOG` events are pending (the application's new events are not chased to zero).
 * Failures are left for the drain inside the pause to report.
 */
async function drainBeforePause(
  stores: RuntimeStores,
  domain: string,
  to: Phase,
  drainTimeoutMs: number,
): Promise<FlipReport['beforePause']> {
  const started = performance.now();
  const { rows } = await targetOf(stores.pg).query<{ phase: string; collections: string[] }>(
    'select phase, collections from ferry.domains where name = $1',
    [domain],
  );
  const row = rows[0];
  let gapsClosed = 0;
  let eventsDelivered = 0;
  if (row !== undefined && isPhase(row.phase)) {
    const signal = AbortSignal.timeout(drainTimeoutMs);
    const direction = drainDirection(row.phase, to);
    if (direction === 'gaps')
      gapsClosed = await reconcileGaps(stores, { only: row.collections, signal }).then(
        (summary) => summary.closed,
        () => 0,
      );
    else if (direction === 'outbox')
      eventsDelivered = await deliverPendingNow(stores, row.collections, { leave: PAUSE_BACKLOG, signal });
  }
  return { ms: round(performance.now() - started), gapsClosed, eventsDelivered };
}

/** Outbox events the drain before the pause may leave for the pause: one bulkWrite's worth. */
const PAUSE_BACKLOG = 16;

/** Which store the change needs complete: PostgreSQL (close the gaps) or MongoDB (deliver the outbox). */
function drainDirection(from: Phase, to: Phase): 'gaps' | 'outbox' | undefined {
  if (mongoIsPrimary(from) && !mongoIsPrimary(to)) return 'gaps';
  if (feedsMongo(from) && !feedsMongo(to)) return 'outbox';
  return undefined;
}

async function lockedDomain(tx: Queryable, domain: string): Promise<{ from: Phase; collections: string[] }> {
  const { rows } = await tx.query<{ phase: string; collections: string[] }>(
    'select phase, collections from ferry.domains where name = $1 for update',
    [domain],
  );
  const row = rows[0];
  if (row === undefined || !isPhase(row.phase)) throw unknownDomain(domain);
  return { from: row.phase, collections: row.collections };
}

/** Bring the store that will be (or stay) the complete one up to date, inside the pause. */
async function drain(
  stores: RuntimeStores,
  domain: string,
  collections: readonly string[],
  from: Phase,
  to: Phase,
  drainTimeoutMs: number,
): Promise<{ gapsClosed: number; eventsDelivered: number }> {
  const direction = drainDirection(from, to);
  if (direction === 'gaps') {
    const summary = await reconcileGaps(stores, {
      only: collections,
      signal: AbortSignal.timeout(drainTimeoutMs),
    });
    if (summary.open > 0)
      throw new FerryError(
        `domain "${domain}" still has ${summary.open} open gap${summary.open === 1 ? '' : 's'} after reconciling them during the flip; the primary stays MongoDB`,
        {
          code: 'CUTOVER_GAPS_OPEN',
          category: 'problem',
          hint: 'run `ferry reconcile` and see `ferry status` for the gaps that stay open, then try again',
        },
      );
    return { gapsClosed: summary.closed, eventsDelivered: 0 };
  }
  if (direction === 'outbox') {
    const delivered = await deliverPendingNow(stores, collections, {
      leave: 0,
      signal: AbortSignal.timeout(drainTimeoutMs),
    });
    const { rows } = await targetOf(stores.pg).query<{ left: number }>(
      `select count(*)::int as left from ferry.outbox
        where schema = $1 and collection = any($2) and status in ('pending', 'dead')`,
      [stores.schema, collections],
    );
    const left = rows[0]?.left ?? 0;
    if (left > 0)
      throw new FerryError(
        `domain "${domain}" has ${left} outbox event${left === 1 ? '' : 's'} that could not be delivered to MongoDB during the flip; the phase stays ${from}`,
        {
          code: 'CUTOVER_OUTBOX_UNDELIVERED',
          category: 'problem',
          hint: 'see the dead or retrying events in `ferry status`; fix their cause, `ferry outbox redrive`, then try again',
        },
      );
    return { gapsClosed: 0, eventsDelivered: delivered };
  }
  return { gapsClosed: 0, eventsDelivered: 0 };
}

function lockTimeout(domain: string, ms: number, cause: unknown): FerryError {
  return new FerryError(
    `the flip of domain "${domain}" could not get the domain's lock within ${ms} ms: writes held it; nothing changed`,
    {
      code: 'CUTOVER_LOCK_TIMEOUT',
      category: 'problem',
      cause,
      hint: 'try again, or raise cutover.lockTimeoutMs; look for long transactions inside withPrimary',
    },
  );
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
