import { type Document, EJSON, ObjectId } from 'bson';
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { MONGO_WRITES_PER_CALL } from '../../../src/runtime/outbox/deliver.js';

/** One entity changed behind Ferry's back, as `ferry sync --dry-run --json` lists it. */
export interface DriftChange {
  readonly collection: string;
  readonly kind: 'missing' | 'extra' | 'changed';
  /** The `_id` as canonical Extended JSON. */
  readonly id: string;
}

/** Collections the marketplace has no unique key in but `_id`, so a clone inserts cleanly. */
const CLONED = ['notifications', 'purchaseRequests', 'payments'];
/** Deleted from: nothing references a notification, so PostgreSQL's foreign keys allow it. */
const DELETED = 'notifications';

/**
 * Writes straight to MongoDB, bypassing Ferry, on `share` of the marketplace's documents: a
 * third updates (`$set` of a new field, in every collection in proportion to its size), a
 * third inserts (clones of existing documents with a new `_id`), a third deletes. `ids` holds
 * each collection's ids and loses the deleted ones; ids `avoid` rejects are left alone (the
 * concurrent writer's). `tag` makes a second round pick other entities.
 *
 * @example
 * const changes = await driftBehindFerry(db, ids, 0.01, 'first');
 * changes.length   // about 1% of the documents
 */
export async function driftBehindFerry(
  db: Db,
  ids: Map<string, unknown[]>,
  share: number,
  tag: string,
  avoid: (index: number) => boolean = () => false,
): Promise<DriftChange[]> {
  const total = [...ids.values()].reduce((n, list) => n + list.length, 0);
  const each = Math.max(1, Math.round((total * share) / 3));
  const pick = (name: string, count: number, offset: number) => {
    const list = ids.get(name)!;
    const stride = Math.max(1, Math.floor(list.length / count));
    return list.filter((_, i) => i % stride === offset % stride && !avoid(i)).slice(0, count);
  };
  const changes: DriftChange[] = [];
  const ejson = (id: unknown) => EJSON.stringify(id as never, { relaxed: false });
  for (const [name, list] of ids) {
    const chosen = pick(name, Math.max(1, Math.round((each * list.length) / total)), tag.length + 3);
    // One write per `_id`: FerretDB runs `_id` equality as a scan in SQL, but an `$in` as a
    // scan that decodes every document in FerretDB (minutes per statement at 1M documents).
    await writeByIds(
      db.collection<Document>(name),
      chosen.map((id) => ({
        updateOne: { filter: { _id: id as never }, update: { $set: { driftedBy: tag } } },
      })),
    );
    for (const id of chosen) changes.push({ collection: name, kind: 'changed', id: ejson(id) });
  }
  for (const name of CLONED) {
    const templates = await db
      .collection<Document>(name)
      .find({}, { promoteValues: false, limit: Math.ceil(each / CLONED.length) })
      .toArray();
    const clones = templates.map((t) => ({ ...t, _id: new ObjectId(), driftedBy: tag }));
    await db.collection<Document>(name).insertMany(clones);
    for (const c of clones) changes.push({ collection: name, kind: 'missing', id: ejson(c._id) });
  }
  const updated = new Set(changes.map((c) => c.id));
  const gone = pick(DELETED, each, tag.length + 5).filter((id) => !updated.has(ejson(id)));
  await writeByIds(
    db.collection<Document>(DELETED),
    gone.map((id) => ({ deleteOne: { filter: { _id: id as never } } })),
  );
  for (const id of gone) changes.push({ collection: DELETED, kind: 'extra', id: ejson(id) });
  const removed = new Set(gone.map(ejson));
  ids.set(
    DELETED,
    ids.get(DELETED)!.filter((id) => !removed.has(ejson(id))),
  );
  return changes;
}

/**
 * Writes by `_id`, a few per `bulkWrite`: FerretDB v1.24 holds a connection of its pool per
 * statement until the command ends, and hangs for good on a bulkWrite of some 50 updates
 * (see `MONGO_WRITES_PER_CALL`, the outbox's limit for the same reason).
 */
async function writeByIds(
  collection: Collection<Document>,
  operations: readonly AnyBulkWriteOperation<Document>[],
): Promise<void> {
  for (let start = 0; start < operations.length; start += MONGO_WRITES_PER_CALL)
    await collection.bulkWrite(operations.slice(start, start + MONGO_WRITES_PER_CALL), { ordered: false });
}
