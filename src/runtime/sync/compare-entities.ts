import type { Document } from 'bson';
import { canonicalHash } from '../../mapping/canonical/index.js';
import { findByIds } from '../../sources/mongodb/find-by-ids.js';
import type { Queryable } from '../../target/target-database.js';
import { targetHash } from '../../verify/bucket-scan.js';
import { idHash } from '../../verify/document-id.js';
import { fetchTargetDocumentsById } from '../../verify/target-reader.js';
import type { RuntimeStores } from '../entity-copy.js';

/** Where each entity stands after a look at both stores. */
export interface EntityComparison {
  /** Equal now, and still in MongoDB: a copy. */
  readonly present: readonly unknown[];
  /** Equal now, and gone from both: a delete. */
  readonly absent: readonly unknown[];
  /** Still different. */
  readonly differing: readonly unknown[];
}

/**
 * Compare a few entities between the stores right now, by the canonical hash of the
 * MongoDB document and of the document `toDoc` rebuilds from PostgreSQL (the comparison
 * deep verify makes), so `ferry sync` can tell whether a repair took: an `_id` lookup each in
 * MongoDB, and one query per table in PostgreSQL for the whole list.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const stores: RuntimeStores;
 * declare const db: TargetDatabase;
 * declare const id: ObjectId;
 * const { differing } = await compareEntities(stores, db, 'orders', [id]);
 * differing.length   // 0 once the copy took
 */
export async function compareEntities(
  stores: RuntimeStores,
  db: Queryable,
  collection: string,
  ids: readonly unknown[],
  signal?: AbortSignal,
): Promise<EntityComparison> {
  const [primary, target] = await Promise.all([
    readPrimaryById(stores, collection, ids, signal),
    fetchTargetDocumentsById(db, { plan: stores.plan, collection, schema: stores.schema }, ids),
  ]);
  const targetHashes = new Map(target.map((t) => [idHash(t.id), targetHash(t)]));
  const present: unknown[] = [];
  const absent: unknown[] = [];
  const differing: unknown[] = [];
  for (const id of ids) {
    const h = idHash(id);
    const doc = primary.get(h);
    const rebuilt = targetHashes.get(h);
    if (doc === undefined && rebuilt === undefined) absent.push(id);
    else if (doc !== undefined && rebuilt === canonicalHash(doc)) present.push(id);
    else differing.push(id);
  }
  return { present, absent, differing };
}

/** The entities' documents in MongoDB now, by id hash (see `findByIds`). */
async function readPrimaryById(
  stores: RuntimeStores,
  collection: string,
  ids: readonly unknown[],
  signal: AbortSignal | undefined,
): Promise<Map<bigint, Document>> {
  const docs = await findByIds(stores.mongo, collection, ids, signal);
  return new Map(docs.map((doc) => [idHash(doc._id), doc]));
}
