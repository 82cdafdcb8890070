import { BSON, type Document } from 'bson';
import type { Db } from 'mongodb';
import { DESERIALIZE_OPTIONS } from '../bson/decode-frame.js';

/**
 * Reading a few documents by `_id`, as the runtime does for every copy and comparison.
 * MongoDB serves `{ _id: { $in: ids } }` from its `_id` index in one round trip. FerretDB
 * v1.24 has no indexed `_id` read at all: it pushes `_id` equality down to PostgreSQL as a
 * JSONB containment (`_jsonb->'_id' @> …`), which its btree index on `_id` cannot serve, so each
 * lookup is a sequential scan in SQL; an `$in` is not pushed down, so it reads and decodes the
 * whole collection in FerretDB. Measured on 100k documents: one `$in` of 200 ids 7.6–9.8 s, the
 * same 200 ids looked up one by one, 8 at a time, 4.9–6.9 s. Hence lookups on FerretDB; both
 * grow with the collection (about 160 ms per lookup at 350k rows), which is what makes
 * `ferry sync` on a large FerretDB slower than on MongoDB.
 */

/** Equality lookups in flight at once on FerretDB. */
const LOOKUPS = 8;

const ferretByDb = new WeakMap<Db, Promise<boolean>>();

/**
 * Whether the server behind `db` is FerretDB, which answers `buildInfo` with its own
 * `ferretdbVersion`; asked once per `Db`.
 *
 * @example
 * import type { Db } from 'mongodb';
 * declare const db: Db;
 * if (await isFerretDb(db)) console.log('FerretDB: no $in by index');
 */
export function isFerretDb(db: Db): Promise<boolean> {
  let known = ferretByDb.get(db);
  if (known === undefined) {
    known = db
      .command({ buildInfo: 1 })
      .then((info) => typeof info.ferretdbVersion === 'string')
      // Not known now (the server away): asked again next time, and read with `$in` meanwhile.
      .catch(() => {
        ferretByDb.delete(db);
        return false;
      });
    ferretByDb.set(db, known);
  }
  return known;
}

/**
 * The documents of `collection` whose `_id` is one of `ids`, as raw BSON decoded the way every
 * source decodes it (Int32 stays Int32, Long stays Long). Absent ids are simply missing from
 * the result; order is not kept.
 *
 * @example
 * import type { Db } from 'mongodb';
 * declare const db: Db;
 * declare const ids: readonly unknown[];
 * const docs = await findByIds(db, 'orders', ids);
 */
export async function findByIds(
  db: Db,
  collection: string,
  ids: readonly unknown[],
  signal?: AbortSignal,
): Promise<Document[]> {
  if (ids.length === 0) return [];
  const handle = db.collection(collection);
  const read = async (filter: Document, out: Document[]) => {
    const cursor = handle.find(filter, { raw: true, ...(signal && { signal }) });
    for await (const raw of cursor as unknown as AsyncIterable<Uint8Array>)
      out.push(BSON.deserialize(raw, DESERIALIZE_OPTIONS));
  };
  const out: Document[] = [];
  if (ids.length === 1) await read({ _id: ids[0] }, out);
  else if (!(await isFerretDb(db))) await read({ _id: { $in: ids } }, out);
  else {
    let next = 0;
    const lookups = async () => {
      while (next < ids.length) await read({ _id: ids[next++] }, out);
    };
    await Promise.all(Array.from({ length: Math.min(LOOKUPS, ids.length) }, lookups));
  }
  return out;
}
