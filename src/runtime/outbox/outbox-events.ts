import { createHash } from 'node:crypto';
import type { Queryable } from '../../target/target-database.js';

/**
 * The rows of `ferry.outbox` as the worker handles them: claimed under a lease, then settled
 * as delivered, failed (with the entity's backoff, or dead after the last attempt) or released
 * untouched. Every statement here is one round trip, and every settling statement names the
 * lease owner, so a worker whose lease ran out (and whose events another worker took) never
 * settles what it no longer owns.
 */

/**
 * One event a worker holds: an entity of `collection` (its root key as text) to deliver.
 *
 * @example
 * declare const event: ClaimedEvent;
 * console.log(`${event.collection} ${event.docKey}: ${event.attempts} failed attempts so far`);
 */
export interface ClaimedEvent {
  readonly id: string;
  readonly collection: string;
  /** The root row's key as text (`ferry.outbox.doc_key`). */
  readonly docKey: string;
  /** Failed deliveries so far. */
  readonly attempts: number;
  /** When the write was captured (ms since the epoch). */
  readonly enqueuedAt: number;
}

/**
 * Claim the events of up to `entities` ready entities of `schema`, all of each entity's
 * pending events at once (so one delivery coalesces them), for `leaseMs`. `FOR UPDATE SKIP
 * LOCKED` lets workers claim side by side without waiting on each other; the lease (not a
 * held row lock) is the claim, so the claiming transaction ends at once and never blocks a
 * writer or the other workers. An entity is ready when one of its events is due (its backoff
 * has passed) and none is leased; events whose lease ran out (a worker killed mid-batch) are
 * taken over.
 *
 * @example
 * declare const db: TargetDatabase;
 * const events = await claimEvents(db, { schema: 'public', owner: 'host:123', entities: 500, leaseMs: 30_000 });
 */
export async function claimEvents(
  db: Queryable,
  options: { schema: string; owner: string; entities: number; leaseMs: number },
): Promise<ClaimedEvent[]> {
  const { rows } = await db.query<{
    id: string;
    collection: string;
    doc_key: string;
    attempts: number;
    enqueued_ms: string;
  }>(
    `with ready as (
       select distinct collection, doc_key from (
         select collection, doc_key from ferry.outbox
          where schema = $1 and status = 'pending' and next_attempt_at <= now()
            and (lease_until is null or lease_until < now())
          order by next_attempt_at, id
          limit $2) r
        where not exists (
          select 1 from ferry.outbox l
           where l.schema = $1 and l.status = 'pending' and l.collection = r.collection
             and l.doc_key = r.doc_key and l.lease_until >= now())
     ), claimed as (
       select o.id from ferry.outbox o join ready using (collection, doc_key)
        where o.schema = $1 and o.status = 'pending' and (o.lease_until is null or o.lease_until < now())
        for update of o skip locked
     )
     update ferry.outbox o
        set lease_owner = $3, lease_until = now() + $4 * interval '1 millisecond'
       from claimed where o.id = claimed.id
     returning o.id::text as id, o.collection, o.doc_key, o.attempts,
               (extract(epoch from o.enqueued_at) * 1000)::bigint::text as enqueued_ms`,
    [options.schema, options.entities, options.owner, options.leaseMs],
  );
  return rows.map((r) => ({
    id: r.id,
    collection: r.collection,
    docKey: r.doc_key,
    attempts: r.attempts,
    enqueuedAt: Number(r.enqueued_ms),
  }));
}

/**
 * An entity's failed delivery: the events, why (no row values), and how long to wait.
 *
 * @example
 * const failure: EventFailure = { ids: ['17', '18'], error: 'BSON document too large', delayMs: 2000 };
 */
export interface EventFailure {
  readonly ids: readonly string[];
  readonly error: string;
  readonly delayMs: number;
}

/**
 * Settle claimed events: `delivered` ones are done; `failed` ones count an attempt, wait their
 * backoff and go dead at `maxAttempts`; `released` ones go back untouched (another worker
 * held their entity's lock). One statement, so a batch settles in one round trip; inside the
 * delivering transaction, it commits with the locks' release.
 *
 * @example
 * declare const tx: TargetTransaction;
 * await settleEvents(tx, 'host:123', { delivered: ['1', '2'], failed: [], released: [] }, 10);
 */
export async function settleEvents(
  db: Queryable,
  owner: string,
  settled: {
    readonly delivered: readonly string[];
    readonly failed: readonly EventFailure[];
    readonly released: readonly string[];
  },
  maxAttempts: number,
): Promise<{ dead: number }> {
  const failedIds = settled.failed.flatMap((f) => f.ids);
  if (settled.delivered.length + failedIds.length + settled.released.length === 0) return { dead: 0 };
  const { rows } = await db.query<{ dead: number }>(
    `with delivered as (
       update ferry.outbox
          set status = 'delivered', delivered_at = clock_timestamp(), lease_owner = null,
              lease_until = null, last_error = null
        where id = any($2::bigint[]) and lease_owner = $1
     ), failed as (
       update ferry.outbox o
          set attempts = o.attempts + 1, last_error = f.error,
              next_attempt_at = now() + f.delay_ms * interval '1 millisecond',
              status = case when o.attempts + 1 >= $6 then 'dead' else 'pending' end,
              lease_owner = null, lease_until = null
         from unnest($3::bigint[], $4::text[], $5::float8[]) as f(id, error, delay_ms)
        where o.id = f.id and o.lease_owner = $1
       returning o.status
     ), released as (
       update ferry.outbox set lease_owner = null, lease_until = null
        where id = any($7::bigint[]) and lease_owner = $1
     )
     select count(*) filter (where status = 'dead')::int as dead from failed`,
    [
      owner,
      settled.delivered,
      failedIds,
      settled.failed.flatMap((f) => f.ids.map(() => f.error)),
      settled.failed.flatMap((f) => f.ids.map(() => f.delayMs)),
      maxAttempts,
      settled.released,
    ],
  );
  return { dead: rows[0]?.dead ?? 0 };
}

/**
 * Give back every event `owner` still holds (a worker shutting down, or one whose batch
 * failed as a whole because MongoDB is unreachable): they are claimable again at once, with
 * no attempt counted.
 *
 * @example
 * declare const db: TargetDatabase;
 * await releaseClaims(db, 'host:123');
 */
export async function releaseClaims(db: Queryable, owner: string, ids?: readonly string[]): Promise<number> {
  const { rowCount } = await db.query(
    `update ferry.outbox set lease_owner = null, lease_until = null
      where lease_owner = $1 and status = 'pending' ${ids === undefined ? '' : 'and id = any($2::bigint[])'}`,
    ids === undefined ? [owner] : [owner, ids],
  );
  return rowCount;
}

/**
 * The advisory lock of one entity while the outbox delivers it: 64 bits of SHA-256 over the
 * schema, collection and root key text, as a signed bigint in decimal. Deliveries of one
 * entity hold it from reading PostgreSQL until MongoDB acknowledged the write, so they
 * serialise and a later delivery always carries a state at least as new (DESIGN.md runtime
 * rule 1). It is its own key space ("outbox"), apart from the mirror's `entityLockKey`: in
 * pg_primary the mirror copies nothing, and the writers themselves never take it.
 *
 * @example
 * outboxLockKey('public', 'orders', '0190c6d2-5a1e-7fe6-a0a1-b2c3d4e5f607')   // '-4632…'
 */
export function outboxLockKey(schema: string, collection: string, docKey: string): string {
  const digest = createHash('sha256')
    .update('outbox\u0000')
    .update(schema)
    .update('\u0000')
    .update(collection)
    .update('\u0000')
    .update(docKey)
    .digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * How long an entity waits after its `attempts`-th failed delivery: exponential in the
 * attempts, capped, with "equal jitter" (half fixed, half random), so entities that failed
 * together spread out but none retries at once.
 *
 * @example
 * entityBackoffMs(1, { baseMs: 500, maxMs: 60_000 })   // between 500 and 1000
 */
export function entityBackoffMs(
  attempts: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempts));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Delete delivered events older than `retentionMs`, at most `limit` per call (short
 * statements, never a long lock on the queue). Returns how many went.
 *
 * @example
 * declare const db: TargetDatabase;
 * await deleteDeliveredEvents(db, 3_600_000);
 */
export async function deleteDeliveredEvents(
  db: Queryable,
  retentionMs: number,
  limit = 10_000,
): Promise<number> {
  const { rowCount } = await db.query(
    `delete from ferry.outbox where id in (
       select id from ferry.outbox
        where status = 'delivered' and delivered_at < now() - $1 * interval '1 millisecond'
        limit $2)`,
    [retentionMs, limit],
  );
  return rowCount;
}
