import { ObjectId } from 'bson';
import { FerryError } from '../../core/errors.js';
import { encodeColumn, MISMATCH } from '../../mapping/column-codec.js';
import { compiledCollection } from '../../mapping/compile.js';
import { objectIdToUuid } from '../../mapping/identity.js';
import type { Plan } from '../../mapping/model.js';
import { RejectSignal } from '../../mapping/reject.js';
import type { RowValue } from '../../mapping/row-values.js';
import type { Queryable } from '../../target/target-database.js';
import { entityTables } from '../entity-rows.js';

/**
 * The outbox as the application and the operator use it: explicit events, redrive of
 * dead letters, and the figures `ferry status` shows.
 */

/**
 * Where the mapped tables live: the mapping and the target schema.
 *
 * @example
 * declare const plan: Plan;
 * const where: OutboxTarget = { plan, schema: 'public' };
 */
export interface OutboxTarget {
  readonly plan: Plan;
  readonly schema: string;
}

/**
 * Record entities in `ferry.outbox` inside the caller's transaction `tx`, as the capture
 * trigger does for every write to a mapped table: for a change the triggers cannot see (a
 * TRUNCATE, a table outside the mapping that feeds a document, a document to send again).
 * The same rule applies as for the triggers: events are recorded only while the collection's
 * domain is in `pg_primary` (in any other phase MongoDB is not fed); the count recorded is
 * returned. The event commits or rolls back with the caller's write, so nothing is sent for a
 * write that did not happen and nothing that committed is missed.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const tx: TargetTransaction;
 * declare const plan: Plan;
 * declare const orderId: ObjectId;
 * await tx.query('update orders set status = $1 where id = ferry.oid_to_uuid($2)', ['paid', orderId.toHexString()]);
 * await enqueueOutbox(tx, { plan, schema: 'public' }, 'orders', [orderId]);
 */
export async function enqueueOutbox(
  tx: Queryable,
  where: OutboxTarget,
  collection: string,
  ids: readonly unknown[],
): Promise<number> {
  const keys = rootKeys(where.plan, collection, ids);
  if (keys.length === 0) return 0;
  const { rootIdType } = entityTables(where.plan, collection, where.schema);
  // The key's text as the trigger writes it (`to_jsonb(row) ->> column`), so the events of one
  // entity from either path are one entity to the worker.
  const { rows } = await tx.query<{ n: number }>(
    `select ferry.outbox_enqueue($1, $2, array(select to_jsonb(k) #>> '{}' from unnest($3::${rootIdType}[]) k)) as n`,
    [where.schema, collection, keys],
  );
  return rows[0]?.n ?? 0;
}

function rootKeys(plan: Plan, collection: string, ids: readonly unknown[]): RowValue[] {
  const codec = compiledCollection(plan, collection).root.id!;
  const keys: RowValue[] = [];
  for (const id of ids) {
    let key: RowValue | typeof MISMATCH | null;
    try {
      key = encodeColumn(codec, id, ['_id']);
    } catch (error) {
      if (!(error instanceof RejectSignal)) throw error;
      key = MISMATCH;
    }
    if (key === MISMATCH || key === null)
      throw new FerryError(`an _id given to the outbox cannot be a key of collection ${collection}`, {
        code: 'OUTBOX_BAD_ID',
        category: 'usage',
        where: { collection },
        hint: 'pass the documents’ _id values as the application holds them (an ObjectId, a string, a number)',
      });
    keys.push(key);
  }
  return keys;
}

/**
 * Which dead events `redriveOutbox` brings back: all of a schema, a collection's, or one
 * entity's (`id`: its `_id` as text, e.g. an ObjectId's hex, or its root key as stored).
 *
 * @example
 * const filter: RedriveFilter = { schema: 'public', collection: 'orders', id: '5bd761dcae323e45a93ccfe8' };
 */
export interface RedriveFilter {
  readonly schema: string;
  readonly collection?: string;
  readonly id?: string;
}

/**
 * Make dead events pending again, with their attempts reset, due now: after the cause is
 * fixed (the document made smaller, MongoDB's index changed), the worker delivers them on its
 * next turn. Returns how many events came back.
 *
 * @example
 * declare const db: TargetDatabase;
 * const n = await redriveOutbox(db, { schema: 'public', collection: 'orders' });
 * console.log(`${n} dead events queued again`);
 */
export async function redriveOutbox(db: Queryable, filter: RedriveFilter): Promise<number> {
  const { rowCount } = await db.query(
    `update ferry.outbox
        set status = 'pending', attempts = 0, next_attempt_at = now(), lease_owner = null, lease_until = null
      where status = 'dead' and schema = $1
        and ($2::text is null or collection = $2)
        and ($3::text[] is null or doc_key = any($3::text[]))`,
    [filter.schema, filter.collection ?? null, filter.id === undefined ? null : keyCandidates(filter.id)],
  );
  return rowCount;
}

/** An `_id` as the user types it: the stored key itself, or an ObjectId's hex as its UUID. */
function keyCandidates(id: string): string[] {
  return /^[0-9a-fA-F]{24}$/.test(id) ? [id, objectIdToUuid(new ObjectId(id))] : [id];
}

/**
 * The outbox figures of one collection, as `ferry status` shows them per domain.
 *
 * @example
 * declare const db: TargetDatabase;
 * const [orders] = await outboxFigures(db, 'public');
 * console.log(orders?.depth, orders?.lagSeconds);
 */
export interface OutboxFigures {
  readonly collection: string;
  /** Pending events (captured, not yet delivered). */
  readonly depth: number;
  /** Age in seconds of the oldest pending event; null when none is pending. */
  readonly lagSeconds: number | null;
  /** Events delivered per second over the last minute. */
  readonly deliveredPerSecond: number;
  /** Dead events (dead-letter: `ferry outbox redrive` brings them back). */
  readonly dead: number;
  /** Pending events that failed at least once and wait for their next attempt. */
  readonly retrying: number;
}

/** The window of the delivered rate. */
const RATE_WINDOW_SECONDS = 60;

/**
 * Per collection of `schema`, the outbox figures (see `OutboxFigures`), read from the queue's
 * partial indexes (pending and dead events, and the last minute's deliveries), never the
 * whole history. `schema` null: per collection over every schema (the dashboard's view of the
 * whole database). A database without `ferry.outbox` has none.
 *
 * @example
 * declare const db: TargetDatabase;
 * for (const f of await outboxFigures(db, 'public')) console.log(f.collection, f.depth, f.dead);
 */
export async function outboxFigures(db: Queryable, schema: string | null): Promise<readonly OutboxFigures[]> {
  const { rows: has } = await db.query<{ found: boolean }>(
    `select to_regclass('ferry.outbox') is not null as found`,
  );
  if (has[0]?.found !== true) return [];
  // Two texts rather than `($1 is null or schema = $1)`, which would keep a generic plan from
  // the partial indexes' schema column.
  const inSchema = schema === null ? '$1::text is null' : 'schema = $1';
  const { rows } = await db.query<{
    collection: string;
    depth: number;
    lag: string | null;
    dead: number;
    retrying: number;
    recent: number;
  }>(
    `with queued as (
       select collection,
              count(*) filter (where status = 'pending')::int as depth,
              extract(epoch from now() - min(enqueued_at) filter (where status = 'pending'))::text as lag,
              count(*) filter (where status = 'dead')::int as dead,
              count(*) filter (where status = 'pending' and attempts > 0)::int as retrying
         from ferry.outbox where ${inSchema} and status in ('pending', 'dead') group by collection
     ), recent as (
       select collection, count(*)::int as recent from ferry.outbox
        where status = 'delivered' and delivered_at > now() - $2 * interval '1 second' and ${inSchema}
        group by collection
     )
     select collection, coalesce(q.depth, 0) as depth, q.lag, coalesce(q.dead, 0) as dead,
            coalesce(q.retrying, 0) as retrying, coalesce(r.recent, 0) as recent
       from queued q full join recent r using (collection) order by collection`,
    [schema, RATE_WINDOW_SECONDS],
  );
  return rows.map((r) => ({
    collection: r.collection,
    depth: r.depth,
    lagSeconds: r.lag === null ? null : Math.max(0, Math.round(Number(r.lag) * 10) / 10),
    deliveredPerSecond: Math.round((r.recent / RATE_WINDOW_SECONDS) * 10) / 10,
    dead: r.dead,
    retrying: r.retrying,
  }));
}
