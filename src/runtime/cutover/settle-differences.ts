import { EJSON, ObjectId } from 'bson';
import { compiledCollection } from '../../mapping/compile.js';
import type { Queryable } from '../../target/target-database.js';
import type { VerifyResult } from '../../verify/types.js';
import { type RuntimeStores, rootKey } from '../entity-copy.js';
import { compareEntities } from '../sync/compare-entities.js';

/**
 * A deep verify under traffic compares each document of MongoDB with PostgreSQL's at slightly
 * different moments, so an entity written in between differs although the runtime keeps both
 * stores in step: the mirror copy, or the outbox delivery, lands a few milliseconds later.
 * The drill (and anything else that verifies a live domain) then looks again at exactly the
 * differing entities, both stores read back to back, until each is equal once: an entity that
 * stays different for `timeoutMs` is drift, not a write in flight.
 *
 * An entity the application writes without pause may never be equal at one instant while
 * PostgreSQL is the primary: the outbox delivers it a moment after each write, by which time
 * the next write has landed. Such an entity is settled by the outbox instead: while it
 * differed, an event of it was pending in `ferry.outbox`, and later every event up to that one
 * was delivered. A delivery writes the entity's whole current state from PostgreSQL to
 * MongoDB, so whatever differed then was overwritten; an event that went dead, or never
 * delivered, leaves the entity unsettled. An outbox behind by more than `timeoutMs` (a backlog
 * after an outage, a loaded machine) is waited for past `timeoutMs`, up to `outboxTimeoutMs`,
 * but only while every entity left has such an event and the outbox keeps delivering: one
 * that delivers nothing for `outboxIdleMs` is stuck, and waiting longer would only hide it.
 */

/**
 * What a second look at a verify's differences found.
 *
 * @example
 * declare const settled: SettledDifferences;
 * if (settled.unsettled.length > 0) console.error('still different:', settled.unsettled.join(', '));
 */
export interface SettledDifferences {
  /** Differences that were writes in flight: the entity was equal in both stores once. */
  readonly settled: number;
  /** Of `settled`, those the outbox delivered while they differed (see above). */
  readonly delivered: number;
  /** `collection _id` of the entities that stayed different (ids as verify prints them). */
  readonly unsettled: readonly string[];
}

/**
 * Whether a failed verify can be settled entity by entity: every problem is a listed
 * document difference (none truncated, no rejects, no failed reconciliation check).
 *
 * @example
 * declare const result: VerifyResult;
 * if (!result.ok && settleable(result)) console.log('only document differences');
 */
export function settleable(result: VerifyResult): boolean {
  return (
    result.rejected === 0 &&
    result.reconciliation.every((r) => r.status !== 'mismatch') &&
    result.collections.every((c) => c.ok || (!c.truncated && c.differences.length > 0))
  );
}

/**
 * Compare the entities a verify found different again, every `intervalMs`, until each was
 * equal once or `timeoutMs` passed (see above). Only call it on a `settleable` result.
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const db: Queryable;
 * declare const result: VerifyResult;
 * const { settled, unsettled } = await settleDifferences(stores, db, result, { timeoutMs: 10_000 });
 */
export async function settleDifferences(
  stores: RuntimeStores,
  db: Queryable,
  result: VerifyResult,
  options: {
    readonly timeoutMs: number;
    /** The longest wait for entities the outbox is still delivering; default `timeoutMs`. */
    readonly outboxTimeoutMs?: number;
    /** How long the outbox may deliver nothing before it counts as stuck; default `timeoutMs`. */
    readonly outboxIdleMs?: number;
    readonly intervalMs?: number;
  },
): Promise<SettledDifferences> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const outboxDeadline = started + Math.max(options.timeoutMs, options.outboxTimeoutMs ?? 0);
  let settled = 0;
  let delivered = 0;
  const unsettled: string[] = [];
  for (const c of result.collections) {
    const keys = new Map(c.differences.map((d) => [d.id, docKeys(stores, c.collection, d.id)]));
    // Per entity, the newest event of it seen pending while it differed.
    const covering = new Map<string, string>();
    let open = c.differences.map((d) => d.id);
    for (;;) {
      const still: string[] = [];
      for (const id of open) {
        const seen = covering.get(id);
        if (
          seen !== undefined &&
          (await deliveredUpTo(db, stores.schema, c.collection, keys.get(id)!, seen))
        ) {
          delivered++;
          continue;
        }
        // An id as verify prints it may stand for several values (a hex string or an
        // ObjectId): it settles when none of them differs.
        const { differing } = await compareEntities(stores, db, c.collection, idCandidates(id));
        if (differing.length === 0) continue;
        still.push(id);
        if (seen === undefined) {
          const pending = await newestPending(db, stores.schema, c.collection, keys.get(id)!);
          if (pending !== undefined) covering.set(id, pending);
        }
      }
      settled += open.length - still.length;
      open = still;
      if (open.length === 0) break;
      const now = Date.now();
      if (now >= outboxDeadline) break;
      if (now >= deadline) {
        const waitingForOutbox = open.every((id) => covering.has(id));
        if (
          !waitingForOutbox ||
          (await outboxIdleMs(db, stores.schema)) >= (options.outboxIdleMs ?? options.timeoutMs)
        )
          break;
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    }
    unsettled.push(...open.map((id) => `${c.collection} ${id}`));
  }
  return { settled, delivered, unsettled };
}

/**
 * How long ago the outbox last delivered an event of the schema, by PostgreSQL's clock;
 * Infinity when none is on record.
 */
async function outboxIdleMs(db: Queryable, schema: string): Promise<number> {
  const { rows } = await db.query<{ ms: number | null }>(
    `select (extract(epoch from now() - max(delivered_at)) * 1000)::float8 as ms
       from ferry.outbox where status = 'delivered' and schema = $1`,
    [schema],
  );
  return rows[0]?.ms ?? Number.POSITIVE_INFINITY;
}

/** The `ferry.outbox.doc_key` texts the root row of a printed `_id` can have. */
function docKeys(stores: RuntimeStores, collection: string, id: string): string[] {
  const compiled = compiledCollection(stores.plan, collection);
  const keys = new Set<string>();
  for (const candidate of idCandidates(id)) {
    const key = rootKey(compiled, candidate);
    if (typeof key === 'string' || typeof key === 'number' || typeof key === 'bigint') keys.add(String(key));
  }
  return [...keys];
}

/** The id of the entity's newest pending outbox event, if one is pending. */
async function newestPending(
  db: Queryable,
  schema: string,
  collection: string,
  keys: readonly string[],
): Promise<string | undefined> {
  if (keys.length === 0) return undefined;
  const { rows } = await db.query<{ id: string | null }>(
    `select max(id)::text as id from ferry.outbox
      where schema = $1 and collection = $2 and doc_key = any($3::text[]) and status = 'pending'`,
    [schema, collection, keys],
  );
  return rows[0]?.id ?? undefined;
}

/** Whether every event of the entity up to `id` was delivered (none pending, none dead). */
async function deliveredUpTo(
  db: Queryable,
  schema: string,
  collection: string,
  keys: readonly string[],
  id: string,
): Promise<boolean> {
  const { rows } = await db.query<{ open: boolean }>(
    `select exists (select 1 from ferry.outbox
      where schema = $1 and collection = $2 and doc_key = any($3::text[]) and id <= $4::bigint
        and status <> 'delivered') as open`,
    [schema, collection, keys, id],
  );
  return rows[0]?.open === false;
}

/** The `_id` values an id printed by verify (`idText`) can stand for. */
function idCandidates(text: string): unknown[] {
  const candidates: unknown[] = [text];
  if (/^[0-9a-f]{24}$/.test(text)) candidates.push(ObjectId.createFromHexString(text));
  try {
    const parsed: unknown = EJSON.parse(text, { relaxed: true });
    if (typeof parsed !== 'string') candidates.push(parsed);
  } catch {
    // Not Extended JSON: the string itself.
  }
  return candidates;
}
