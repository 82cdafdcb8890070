import type { Document } from 'bson';
import { canonicalHash } from '../../mapping/canonical/index.js';
import { findByIds, isFerretDb } from '../../sources/mongodb/find-by-ids.js';
import type { Source } from '../../sources/types.js';
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

/** Ids per read of either store, so memory stays bounded whatever the list's length. */
const CHUNK = 2000;
/**
 * Past this many ids, a server without an indexed `_id` read (FerretDB, see `findByIds`) is
 * read in one pass over the collection instead: one lookup there costs a scan in SQL, so a
 * pass costs about as much as a few hundred lookups (measured on 100k documents: 200 lookups
 * 4.9–6.9 s, a pass about 8 s).
 */
const PASS_OVER = 256;

/** How `compareEntities` reads. */
export interface CompareOptions {
  readonly signal?: AbortSignal;
  /**
   * The primary's documents in one pass, for many ids on a server without an indexed `_id`
   * read (the sync's source).
   */
  readonly source?: Pick<Source, 'read'>;
}

/**
 * Compare entities between the stores right now, by the canonical hash of the MongoDB
 * document and of the document `toDoc` rebuilds from PostgreSQL (the comparison deep verify
 * makes), so `ferry sync` can tell whether a repair took. Reads `_id`s in chunks (`findByIds`
 * in MongoDB, one query per table in PostgreSQL) and keeps only hashes, so any number of ids
 * fits; with `source`, many ids on FerretDB are read in one pass over the collection.
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
  options: CompareOptions = {},
): Promise<EntityComparison> {
  const [primary, target] = await Promise.all([
    primaryHashes(stores, collection, ids, options),
    targetHashes(stores, db, collection, ids),
  ]);
  const present: unknown[] = [];
  const absent: unknown[] = [];
  const differing: unknown[] = [];
  for (const id of ids) {
    const h = idHash(id);
    const doc = primary.get(h);
    const rebuilt = target.get(h);
    if (doc === undefined && rebuilt === undefined) absent.push(id);
    else if (doc !== undefined && rebuilt === doc) present.push(id);
    else differing.push(id);
  }
  return { present, absent, differing };
}

/** The canonical hash of each entity's document in MongoDB now, by id hash. */
async function primaryHashes(
  stores: RuntimeStores,
  collection: string,
  ids: readonly unknown[],
  options: CompareOptions,
): Promise<Map<bigint, bigint>> {
  const hashes = new Map<bigint, bigint>();
  const add = (doc: Document) => hashes.set(idHash(doc._id), canonicalHash(doc));
  if (options.source !== undefined && ids.length > PASS_OVER && (await isFerretDb(stores.mongo))) {
    const wanted = new Set(ids.map(idHash));
    const read = options.source.read(collection, options.signal ? { signal: options.signal } : {});
    for await (const batch of read) for (const doc of batch.docs) if (wanted.has(idHash(doc._id))) add(doc);
    return hashes;
  }
  for (let i = 0; i < ids.length; i += CHUNK)
    for (const doc of await findByIds(stores.mongo, collection, ids.slice(i, i + CHUNK), options.signal))
      add(doc);
  return hashes;
}

/** The canonical hash of each entity's document rebuilt from PostgreSQL now, by id hash. */
async function targetHashes(
  stores: RuntimeStores,
  db: Queryable,
  collection: string,
  ids: readonly unknown[],
): Promise<Map<bigint, bigint>> {
  const where = { plan: stores.plan, collection, schema: stores.schema };
  const hashes = new Map<bigint, bigint>();
  for (let i = 0; i < ids.length; i += CHUNK)
    for (const t of await fetchTargetDocumentsById(db, where, ids.slice(i, i + CHUNK)))
      hashes.set(idHash(t.id), targetHash(t));
  return hashes;
}
