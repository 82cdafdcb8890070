import { EJSON, ObjectId } from 'bson';
import type { Queryable } from '../../target/target-database.js';
import type { VerifyResult } from '../../verify/types.js';
import type { RuntimeStores } from '../entity-copy.js';
import { compareEntities } from '../sync/compare-entities.js';

/**
 * A deep verify under traffic compares each document of MongoDB with PostgreSQL's at slightly
 * different moments, so an entity written in between differs although the runtime keeps both
 * stores in step: the mirror copy, or the outbox delivery, lands a few milliseconds later.
 * The drill (and anything else that verifies a live domain) then looks again at exactly the
 * differing entities, both stores read back to back, until each is equal once: an entity that
 * stays different for `timeoutMs` is drift, not a write in flight.
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
  options: { readonly timeoutMs: number; readonly intervalMs?: number },
): Promise<SettledDifferences> {
  const deadline = Date.now() + options.timeoutMs;
  let settled = 0;
  const unsettled: string[] = [];
  for (const c of result.collections) {
    let open = c.differences.map((d) => d.id);
    for (;;) {
      const still: string[] = [];
      for (const id of open) {
        // An id as verify prints it may stand for several values (a hex string or an
        // ObjectId): it settles when none of them differs.
        const { differing } = await compareEntities(stores, db, c.collection, idCandidates(id));
        if (differing.length > 0) still.push(id);
      }
      settled += open.length - still.length;
      open = still;
      if (open.length === 0 || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    }
    unsettled.push(...open.map((id) => `${c.collection} ${id}`));
  }
  return { settled, unsettled };
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
