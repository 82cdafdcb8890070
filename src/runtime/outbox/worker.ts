import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { RuntimeStores } from '../entity-copy.js';
import { targetOf } from '../stores.js';
import {
  type DeliveryOutcome,
  type DeliveryPolicy,
  deliverEvents,
  TransientDeliveryError,
} from './deliver.js';
import { claimEvents, deleteDeliveredEvents, releaseClaims, settleEvents } from './outbox-events.js';

/**
 * The channel the capture trigger notifies (payload: the target schema) when it records
 * events; workers LISTEN on it (see state step 15).
 *
 * @example
 * import type pg from 'pg';
 * declare const client: pg.Client;
 * await client.query(`listen ${OUTBOX_CHANNEL}`);
 * client.on('notification', (n) => console.log('outbox events in schema', n.payload));
 */
export const OUTBOX_CHANNEL = 'ferry_outbox';

/**
 * How `workOutbox` runs. Every field has a default that suits a worker beside one app.
 *
 * @example
 * const options: OutboxWorkerOptions = { batchSize: 500, pollMs: 1000, maxAttempts: 10, drain: true };
 */
export interface OutboxWorkerOptions extends Partial<DeliveryPolicy> {
  /** Entities claimed per batch; default 500. */
  readonly batchSize?: number;
  /** How long a claim holds before another worker may take it over; default 30 s. */
  readonly leaseMs?: number;
  /** Poll interval while asleep (a notification wakes the worker sooner); default 1000 ms. */
  readonly pollMs?: number;
  /**
   * After a batch found events, how long the worker keeps polling every 25 ms instead of
   * sleeping; default 1000 ms. Only a sleeping worker asks the writers to notify it, and a
   * notifying commit takes PostgreSQL's cluster-wide notify lock, so under a steady stream of
   * writes nobody notifies.
   */
  readonly lingerMs?: number;
  /** Delivered events are kept this long (for `ferry status`'s rate), then deleted; default 1 h. */
  readonly retentionMs?: number;
  /** Stop once no pending event is left (delivered or dead); default false: run until `signal`. */
  readonly drain?: boolean;
  /** Abort to stop: the batch in hand is finished and settled, then the worker returns. */
  readonly signal?: AbortSignal;
  /** After a stop is asked for, how long the batch in hand may take before its claims are given back anyway; default 10 s. */
  readonly shutdownGraceMs?: number;
  /** Told after every batch and every failure, for logs and tests. */
  readonly onBatch?: (report: OutboxBatchReport) => void;
  /** Names this worker in leases; default `host:pid:random`. */
  readonly owner?: string;
}

/**
 * One turn of the worker, as `onBatch` hears it.
 *
 * @example
 * const onBatch = (r: OutboxBatchReport) => {
 *   if (r.kind === 'delivered') console.log(r.outcome.delivered, 'events delivered');
 *   else if (r.kind === 'backoff') console.warn('MongoDB unavailable, waiting', r.delayMs, 'ms');
 * };
 */
export type OutboxBatchReport =
  | { readonly kind: 'delivered'; readonly outcome: DeliveryOutcome }
  | { readonly kind: 'backoff'; readonly delayMs: number; readonly error: unknown }
  | { readonly kind: 'cleaned'; readonly deleted: number };

/**
 * What a worker did in all, when it returns.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const summary: OutboxWorkSummary = await workOutbox(stores, { drain: true });
 * if (summary.dead > 0) process.exitCode = 1;
 */
export interface OutboxWorkSummary {
  readonly delivered: number;
  readonly entities: number;
  readonly failed: number;
  /** Events that went dead during this run. */
  readonly dead: number;
  /** Dead events in the schema when the worker stopped (from any run). */
  readonly deadInQueue: number;
  /** Pending events left when the worker stopped. */
  readonly pending: number;
}

const DEFAULTS = {
  batchSize: 500,
  leaseMs: 30_000,
  pollMs: 1_000,
  lingerMs: 1_000,
  retentionMs: 3_600_000,
  shutdownGraceMs: 10_000,
  maxAttempts: 10,
  backoffBaseMs: 500,
  backoffMaxMs: 300_000,
};

/** Between two retention sweeps. */
const CLEANUP_EVERY_MS = 60_000;

/** The poll interval while lingering: the most a write waits for a worker that is awake. */
const FAST_POLL_MS = 25;

/**
 * How long a worker about to sleep waits for the writers that found no sleeper to commit
 * (state step 21's gate); a transaction open longer makes it linger and try again.
 */
const GATE_WAIT_MS = 50;

/**
 * `ferry outbox work`: deliver the outbox of `stores.schema` to MongoDB until `signal` aborts
 * (or, with `drain`, until the queue is empty). The loop is a state machine:
 *
 * - **claiming**: claim the events of up to `batchSize` ready entities under a lease
 *   (`claimEvents`). Events found → delivering; none → idle (or, draining, done once no
 *   pending event is left at all).
 * - **delivering**: per collection, `deliverEvents` (per-entity locks, one read per table,
 *   one bulkWrite, settle in the same transaction). → claiming at once: a full queue is
 *   worked without pauses.
 * - **backing off**: MongoDB (or PostgreSQL) failed the batch as a whole. The claims go back
 *   with no attempt counted, and the worker waits (exponential, full jitter, capped at 30 s)
 *   before claiming again; the first batch that succeeds resets the wait.
 * - **lingering**: the claim found nothing, but a claim found events less than `lingerMs` ago:
 *   poll every 25 ms. Writers do not notify a worker that is awake (a notifying commit takes
 *   PostgreSQL's cluster-wide notify lock through its WAL flush, which serialises concurrent
 *   writers' commits), so under a steady stream of writes no transaction notifies, and an
 *   event waits at most 25 ms for the next claim.
 * - **falling asleep**: quiet for `lingerMs`: mark this worker asleep (state step 21: a
 *   session advisory lock on the LISTEN connection, gone with it if the worker dies) and wait
 *   up to 50 ms for the writers that saw no sleeper to commit, then claim once more: every
 *   event is either in that claim or notified. A writer's transaction open past the 50 ms
 *   (or a connection lost meanwhile) keeps the worker lingering, and it tries again.
 * - **asleep**: wait for a notification on `OUTBOX_CHANNEL` (the capture trigger's, for this
 *   schema), the poll interval (notifications can be lost with a connection; backed-off
 *   entities come due without one), or the stop. A notification that arrived while the
 *   worker was claiming ends the wait at once. Waking, the worker takes its mark back, so the
 *   writers stop notifying while it works.
 * - **stopping**: the batch in hand is settled; if it takes longer than `shutdownGraceMs`,
 *   the worker's claims are given back without waiting for it. Either way nothing the worker
 *   claimed stays leased to it when it returns. A worker killed outright (`kill -9`) leaves
 *   its claims to expire with their lease; MongoDB writes are idempotent states, so the next
 *   worker delivering them again is harmless.
 *
 * Several workers may run at once, on one machine or many: claims skip each other's rows,
 * and the per-entity lock orders the deliveries of one entity.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * const summary = await workOutbox(stores, { signal: stop.signal, onBatch: (r) => console.log(r.kind) });
 */
export async function workOutbox(
  stores: RuntimeStores,
  options: OutboxWorkerOptions = {},
): Promise<OutboxWorkSummary> {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const owner = options.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const db = targetOf(stores.pg);
  const policy: DeliveryPolicy = settings;
  const wake = new Wakeup(stores.pg, stores.schema);
  const totals = { delivered: 0, entities: 0, failed: 0, dead: 0 };
  let failures = 0;
  let lastCleanup = 0;
  /** When a claim last found events (or falling asleep last failed): lingering until lingerMs later. */
  let lastBusy = Number.NEGATIVE_INFINITY;
  const stopped = () => options.signal?.aborted === true;
  await wake.listen();
  try {
    while (!stopped()) {
      if (Date.now() - lastCleanup > CLEANUP_EVERY_MS) {
        lastCleanup = Date.now();
        const deleted = await deleteDeliveredEvents(db, settings.retentionMs).catch(() => 0);
        if (deleted > 0) options.onBatch?.({ kind: 'cleaned', deleted });
      }
      // Notifications that arrive from here on mean events the claim below may not see (they
      // committed after its snapshot); the idle wait then returns at once instead of sleeping
      // a whole poll interval on them.
      const notifiedBefore = wake.notifications;
      let claimedAny: boolean;
      try {
        claimedAny = await untilStopped(
          oneBatch(stores, owner, settings, policy, (outcome) => {
            totals.delivered += outcome.delivered;
            totals.entities += outcome.entities;
            totals.failed += outcome.failed;
            totals.dead += outcome.dead;
            options.onBatch?.({ kind: 'delivered', outcome });
          }),
          options.signal,
          settings.shutdownGraceMs,
        );
        failures = 0;
      } catch (error) {
        if (error instanceof StopTimeout) break;
        await releaseClaims(db, owner).catch(() => {});
        failures++;
        // Backing off, the worker claims nothing: notifications would wake it for nothing.
        await wake.awake();
        const delayMs = Math.floor(Math.random() * Math.min(30_000, 250 * 2 ** failures));
        options.onBatch?.({ kind: 'backoff', delayMs, error });
        await wake.wait(delayMs, options.signal);
        continue;
      }
      if (claimedAny) {
        lastBusy = Date.now();
        await wake.awake();
        continue;
      }
      if (settings.drain && (await pendingCount(db, stores.schema)) === 0) break;
      if (Date.now() - lastBusy < settings.lingerMs) {
        await wake.wait(FAST_POLL_MS, options.signal, notifiedBefore);
        continue;
      }
      if (!wake.asleep) {
        const fell = await wake.sleep(GATE_WAIT_MS);
        // Asleep: claim once more; whatever committed before the mark is visible to it.
        if (fell === 'asleep') continue;
        if (fell === 'retry') {
          lastBusy = Date.now();
          continue;
        }
        // 'unavailable': no listener, or a state before step 21 (its triggers always notify).
      }
      await wake.wait(settings.pollMs, options.signal, notifiedBefore);
      await wake.awake();
    }
  } finally {
    await releaseClaims(db, owner).catch(() => {});
    await wake.close();
  }
  const { rows } = await db.query<{ pending: number; dead: number }>(
    `select count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status = 'dead')::int as dead
       from ferry.outbox where schema = $1 and status in ('pending', 'dead')`,
    [stores.schema],
  );
  return { ...totals, pending: rows[0]?.pending ?? 0, deadInQueue: rows[0]?.dead ?? 0 };
}

/**
 * Deliver the pending events of `collections` now, for a primary flip (flip-phase.ts): no
 * LISTEN connection, no retention sweep, no backoff; a batch that fails gives its claims back
 * and ends the call, so the caller counts what is left and refuses. Events another worker
 * holds are waited for (polling every `pollMs`), since the flip needs them in MongoDB too,
 * until at most `leave` events of the collections are pending (0: all delivered). Before a
 * pause, while the application still writes, a small `leave` ends the bulk's delivery
 * without chasing every new event. Returns the events delivered.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const delivered = await deliverPendingNow(stores, ['payments', 'ledger'], { leave: 0, signal: AbortSignal.timeout(30_000) });
 */
export async function deliverPendingNow(
  stores: RuntimeStores,
  collections: readonly string[],
  options: { readonly leave: number; readonly signal?: AbortSignal; readonly pollMs?: number },
): Promise<number> {
  const settings = { ...DEFAULTS, leaseMs: 10_000 };
  const owner = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}:flip`;
  const db = targetOf(stores.pg);
  let delivered = 0;
  try {
    while (options.signal?.aborted !== true) {
      const claimed = await oneBatch(stores, owner, settings, settings, (outcome) => {
        delivered += outcome.delivered;
      });
      if (claimed) continue;
      if ((await pendingCount(db, stores.schema, collections)) <= options.leave) break;
      await sleep(options.pollMs ?? 10, undefined, options.signal ? { signal: options.signal } : {}).catch(
        () => {},
      );
    }
  } catch {
    // MongoDB or PostgreSQL failed the batch: what stays pending is the caller's to report.
  } finally {
    await releaseClaims(db, owner).catch(() => {});
  }
  return delivered;
}

/** Claim one batch and deliver it, collection by collection. Whether anything was claimed. */
async function oneBatch(
  stores: RuntimeStores,
  owner: string,
  settings: typeof DEFAULTS,
  policy: DeliveryPolicy,
  report: (outcome: DeliveryOutcome) => void,
): Promise<boolean> {
  const events = await claimEvents(targetOf(stores.pg), {
    schema: stores.schema,
    owner,
    entities: settings.batchSize,
    leaseMs: settings.leaseMs,
  });
  if (events.length === 0) return false;
  const byCollection = new Map<string, typeof events>();
  for (const event of events) {
    const list = byCollection.get(event.collection);
    if (list === undefined) byCollection.set(event.collection, [event]);
    else list.push(event);
  }
  for (const [collection, list] of byCollection) {
    if (!stores.plan.collections.some((c) => c.name === collection)) {
      // Captured by a trigger of an older mapping: nothing can rebuild it. It fails like a
      // poison entity (and goes dead), so it is visible rather than silently dropped.
      report(await failUnmapped(stores, owner, collection, list, policy));
      continue;
    }
    report(await deliverEvents(stores, collection, list, owner, policy));
  }
  return true;
}

async function failUnmapped(
  stores: RuntimeStores,
  owner: string,
  collection: string,
  events: readonly { id: string; docKey: string }[],
  policy: DeliveryPolicy,
): Promise<DeliveryOutcome> {
  const error = `the mapping has no collection "${collection}"`;
  const { dead } = await settleEvents(
    targetOf(stores.pg),
    owner,
    {
      delivered: [],
      released: [],
      failed: [{ ids: events.map((e) => e.id), error, delayMs: policy.backoffMaxMs }],
    },
    policy.maxAttempts,
  );
  return {
    delivered: 0,
    entities: 0,
    failed: events.length,
    dead,
    released: 0,
    lagsMs: [],
    failures: events.map((e) => ({ collection, docKey: e.docKey, error })),
  };
}

async function pendingCount(
  db: ReturnType<typeof targetOf>,
  schema: string,
  collections?: readonly string[],
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from ferry.outbox
      where schema = $1 and status = 'pending' and ($2::text[] is null or collection = any($2))`,
    [schema, collections ?? null],
  );
  return rows[0]?.n ?? 0;
}

class StopTimeout extends Error {}

/**
 * `work`, but once `signal` aborts it gets `graceMs` more to finish; after that the caller
 * moves on (and gives the claims back) while `work` is abandoned.
 */
async function untilStopped<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  graceMs: number,
): Promise<T> {
  if (signal === undefined) return work;
  const grace = new AbortController();
  const timeout = new Promise<never>((_, reject) => {
    const arm = () => {
      sleep(graceMs, undefined, { signal: grace.signal }).then(
        () => reject(new StopTimeout('the batch in hand outlived the shutdown grace')),
        () => {},
      );
    };
    if (signal.aborted) arm();
    else signal.addEventListener('abort', arm, { once: true, signal: grace.signal });
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    grace.abort();
    work.catch(() => {});
  }
}

/**
 * LISTEN on `OUTBOX_CHANNEL` on a connection of its own (outside the pool), and the waits of
 * the idle and backing-off states. A lost listener is re-created at the next wait; meanwhile
 * the poll interval bounds how late the worker notices new events.
 */
class Wakeup {
  #client: pg.Client | undefined;
  #wakers = new Set<() => void>();
  /** Notifications for this schema received so far (the idle wait compares against it). */
  #notifications = 0;
  /** This worker holds the sleepers mark of state step 21 on `#client`. */
  #asleep = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

  async listen(): Promise<void> {
    if (this.#client !== undefined) return;
    const client = new pg.Client(this.pool.options);
    client.on('error', () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      // The mark went with the connection: writers no longer notify; wake up to mark again.
      this.#asleep = false;
      for (const wake of this.#wakers) wake();
      void client.end().catch(() => {});
    });
    client.on('notification', (n) => {
      if (n.channel !== OUTBOX_CHANNEL || n.payload !== this.schema) return;
      this.#notifications++;
      for (const wake of this.#wakers) wake();
    });
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
      this.#client = client;
    } catch {
      // PostgreSQL is unreachable: polling carries on, and the next wait tries again.
      await client.end().catch(() => {});
    }
  }

  get notifications(): number {
    return this.#notifications;
  }

  get asleep(): boolean {
    return this.#asleep;
  }

  /**
   * Mark this worker asleep, so that writers notify (state step 21's `ferry.outbox_sleep`):
   * 'asleep' once every writer that saw no sleeper has committed; 'retry' (no mark) when one
   * did not commit within `gateMs`, or the connection was lost meanwhile; 'unavailable'
   * without a listener or without the function (a state before step 21).
   */
  async sleep(gateMs: number): Promise<'asleep' | 'retry' | 'unavailable'> {
    await this.listen();
    const client = this.#client;
    if (client === undefined) return 'unavailable';
    try {
      const { rows } = await client.query<{ ok: boolean }>('select ferry.outbox_sleep($1, $2) as ok', [
        this.schema,
        gateMs,
      ]);
      if (rows[0]?.ok !== true || this.#client !== client) return 'retry';
      this.#asleep = true;
      return 'asleep';
    } catch {
      return this.#client === client ? 'unavailable' : 'retry';
    }
  }

  /** Take the sleepers mark back: writers stop notifying for this worker. */
  async awake(): Promise<void> {
    if (!this.#asleep) return;
    this.#asleep = false;
    await this.#client?.query('select ferry.outbox_awake($1)', [this.schema]).catch(() => {});
  }

  /**
   * Wait `ms`, or less when stopped or, given `notifiedBefore` (the count of notifications
   * when the caller last looked at the queue), when events arrive: at once if some already
   * arrived since, because a notification that came while nobody waited is not sent again.
   */
  async wait(ms: number, signal: AbortSignal | undefined, notifiedBefore?: number): Promise<void> {
    if (signal?.aborted) return;
    await this.listen();
    const onNotify = notifiedBefore !== undefined;
    if (onNotify && this.#notifications !== notifiedBefore) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (onNotify) this.#wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#asleep = false;
    await client?.end().catch(() => {});
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export { TransientDeliveryError };
