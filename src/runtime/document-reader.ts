import type { Document } from 'bson';
import { FerryError } from '../core/errors.js';
import { idText } from '../load/reject-record.js';
import { canonicalHash } from '../mapping/canonical/index.js';
import type { Queryable } from '../target/target-database.js';
import { fetchTargetDocumentsById } from '../verify/target-reader.js';
import type { RuntimeStores } from './entity-copy.js';
import { targetOf } from './stores.js';

/**
 * Documents rebuilt from PostgreSQL through `toDoc`, by `_id`, in the order of `ids` (undefined
 * where PostgreSQL has no such document). One query per table of the collection, whatever the
 * number of ids: verify's reader (`fetchTargetDocumentsById`) does the fetching and rebuilding, so
 * the runtime, verification and shadow reads see documents the same way. Rows that cannot be
 * rebuilt (damaged by hand) fail with `RUNTIME_DOCUMENT_DAMAGED`, naming the field. `db`, when
 * given, runs the queries instead of `stores.pg` (a connection a shadow read holds already).
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const stores: RuntimeStores;
 * declare const idA: ObjectId;
 * declare const idB: ObjectId;
 * const [a, b] = await readDocuments(stores, 'orders', [idA, idB]);
 */
export async function readDocuments(
  stores: RuntimeStores,
  collection: string,
  ids: readonly unknown[],
  db: Queryable = targetOf(stores.pg),
): Promise<(Document | undefined)[]> {
  const found = await fetchTargetDocumentsById(
    db,
    { plan: stores.plan, collection, schema: stores.schema },
    ids,
  );
  const byId = new Map<bigint, Document>();
  for (const entry of found) {
    if (entry.doc === undefined)
      throw new FerryError(`the rows of a document cannot be rebuilt (field ${entry.damaged ?? '?'})`, {
        code: 'RUNTIME_DOCUMENT_DAMAGED',
        category: 'problem',
        where: { collection, id: idText(entry.id) ?? '?', ...(entry.damaged && { path: entry.damaged }) },
        hint: 'run `ferry verify` for the collection; `ferry sync` copies the MongoDB state again',
      });
    byId.set(canonicalHash(entry.doc._id), entry.doc);
  }
  return ids.map((id) => byId.get(canonicalHash(id)));
}
