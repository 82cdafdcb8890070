import type { Document } from 'bson';
import { targetHash } from '../../verify/bucket-scan.js';
import { fetchTargetDocumentsById } from '../../verify/target-reader.js';
import { type EntityStates, entityLockKey, type RuntimeStores } from '../entity-copy.js';
import type { ObservedDrift } from './find-drift.js';

/**
 * The states `ferry sync` writes without reading the primary again: each entity's document as
 * the drift scan read it from MongoDB (none for an `extra`, which is deleted), for the
 * entities whose PostgreSQL state, checked under their locks, is still the one the scan saw.
 *
 * Why that is safe while the application writes: the scan read PostgreSQL before MongoDB
 * (`narrowBuckets`), and every write through Ferry copies its entity under this same lock
 * after writing MongoDB. A write that reached MongoDB after the scan read the document either
 * copied before this lock, and then PostgreSQL changed and the entity is left for a locked
 * read, or copies after it and carries its later state over what is written here. The one
 * case this cannot see, a copy that left PostgreSQL exactly as the scan saw it, is caught by
 * the comparison `ferry sync` makes after writing (`compareEntities`), which sends every
 * entity still different to the locked read of the write path.
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const found: readonly ObservedDrift[];
 * await copyEntitiesToPostgres(stores, 'orders', found.map((d) => d.id), {
 *   states: observedStates(stores, 'orders', found),
 * });
 */
export function observedStates(
  stores: RuntimeStores,
  collection: string,
  found: readonly ObservedDrift[],
): EntityStates {
  const seen = new Map(found.map((d) => [entityLockKey(collection, d.id), d]));
  const where = { plan: stores.plan, collection, schema: stores.schema };
  return async (tx, batch) => {
    const now = await fetchTargetDocumentsById(
      tx,
      where,
      batch.map((b) => b.id),
    );
    const current = new Map(now.map((t) => [entityLockKey(collection, t.id), targetHash(t)]));
    const docs = new Map<string, Document>();
    const leave = new Set<string>();
    for (const { lock } of batch) {
      const drift = seen.get(lock);
      if (drift === undefined || current.get(lock) !== drift.targetHash) leave.add(lock);
      else if (drift.doc !== undefined) docs.set(lock, drift.doc);
    }
    return { docs, leave };
  };
}
