import type { Document } from 'bson';
import { FerryError } from '../../core/errors.js';
import type { Queryable } from '../../target/target-database.js';
import { readDocuments } from '../document-reader.js';
import type { Phase } from '../domains.js';
import type { Runtime } from '../runtime.js';
import { applyProjection, isSubDocument } from './projection.js';
import { type SortSpec, sortDocuments } from './sort-documents.js';

/**
 * Where the Mongoose plugin and the driver wrapper send a read, by the phase of the
 * collection's domain (DESIGN.md "The runtime"):
 * - `mongo`: MongoDB only (phases `mongo`, `dual_write`);
 * - `shadow`: MongoDB, and a read by `_id` is compared with PostgreSQL off the request path
 *   (phase `shadow_read`);
 * - `postgres`: PostgreSQL, through `readDocuments` (phases `pg_read`, `pg_primary`, `pg_only`).
 *
 * @example
 * readRoute('shadow_read')   // 'shadow'
 * readRoute('pg_primary')    // 'postgres'
 */
export function readRoute(phase: Phase): 'mongo' | 'shadow' | 'postgres' {
  switch (phase) {
    case 'mongo':
    case 'dual_write':
      return 'mongo';
    case 'shadow_read':
      return 'shadow';
    case 'pg_read':
    case 'pg_primary':
    case 'pg_only':
      return 'postgres';
  }
}

/**
 * A read as the plugin and the wrapper see it: the filter and the find options that shape
 * its answer.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const id: ObjectId;
 * const read: RoutedRead = { filter: { _id: id }, projection: { balance: 1 } };
 */
export interface RoutedRead {
  readonly filter: Document;
  readonly projection?: Document;
  readonly sort?: SortSpec;
  readonly skip?: number;
  readonly limit?: number;
}

/**
 * The `_id`s a filter reads, when it reads by `_id` only: `{ _id: x }`, `{ _id: { $eq: x } }`
 * or `{ _id: { $in: [...] } }`; undefined for any other filter.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const a: ObjectId;
 * declare const b: ObjectId;
 * routableIds({ _id: { $in: [a, b] } })          // [a, b]
 * routableIds({ _id: a, status: 'open' })        // undefined
 */
export function routableIds(filter: Document | undefined): unknown[] | undefined {
  if (filter === undefined || filter === null) return undefined;
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return undefined;
  const value: unknown = filter._id;
  if (!isSubDocument(value)) return value === undefined ? undefined : [value];
  const operators = Object.keys(value);
  if (operators.length === 0 || !operators.every((k) => k.startsWith('$'))) return [value];
  if (operators.length !== 1) return undefined;
  if (operators[0] === '$eq') return [value.$eq];
  if (operators[0] === '$in' && Array.isArray(value.$in)) return [...(value.$in as unknown[])];
  return undefined;
}

/**
 * Answer a read from PostgreSQL (the phases where it is the read store): the documents of the
 * filter's `_id`s rebuilt through `toDoc`, sorted, skipped, limited and projected as MongoDB
 * would. A filter on anything but `_id` fails with `SHADOW_READ_NOT_ROUTABLE`: Ferry does not
 * translate MongoDB queries to SQL, and answering such a read from MongoDB instead would
 * silently read the store that is no longer the read store. Query the mapped tables for those
 * (the Drizzle/Prisma schema `ferry schema export` writes), or read through `shadowRead`'s
 * explicit candidate while shadowing.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const runtime: Runtime;
 * declare const id: ObjectId;
 * const [wallet] = await readFromPostgres(runtime, 'wallets', { filter: { _id: id } });
 */
export async function readFromPostgres(
  runtime: Runtime,
  collection: string,
  read: RoutedRead,
  db?: Queryable,
): Promise<Document[]> {
  const ids = routableIds(read.filter);
  if (ids === undefined)
    throw new FerryError(
      `a read of ${collection} filters on ${describeFilter(read.filter)}, and in phase ${runtime.phase(collection)} reads are answered from PostgreSQL by _id only`,
      {
        code: 'SHADOW_READ_NOT_ROUTABLE',
        category: 'usage',
        where: { collection },
        hint: 'read by _id ({ _id }, { _id: { $in } }), or query the mapped tables in PostgreSQL for other filters',
      },
    );
  const found =
    db === undefined
      ? await runtime.readDocuments(collection, ids)
      : await readDocuments(runtime.stores, collection, ids, db);
  let docs = found.filter((d): d is Document => d !== undefined);
  if (read.sort !== undefined && Object.keys(read.sort).length > 0) docs = sortDocuments(docs, read.sort);
  const skip = read.skip ?? 0;
  const end = read.limit !== undefined && read.limit > 0 ? skip + read.limit : undefined;
  return docs.slice(skip, end).map((d) => applyProjection(d, read.projection));
}

/**
 * Compare a read MongoDB just answered with PostgreSQL, off the request path, when the
 * collection is in phase `shadow_read`, the read is by `_id` and the sample picks it. Reads on
 * other filters are not shadowed here (there is no default candidate for them): shadow those
 * with `runtime.shadowRead` and a candidate of your own. `asPrimary` gives PostgreSQL's documents
 * the form the primary's answer has (Mongoose hydrates them, applying the schema's casts and
 * defaults), so the comparison sees both through the same lens.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const runtime: Runtime;
 * declare const id: ObjectId;
 * declare const doc: unknown;
 * shadowRoutedRead(runtime, 'wallets', { filter: { _id: id } }, doc, 1.2, async () => doc);
 */
export function shadowRoutedRead(
  runtime: Runtime,
  collection: string,
  read: RoutedRead,
  primaryResult: unknown,
  primaryMs: number,
  primaryAgain: () => PromiseLike<unknown>,
  asPrimary: (docs: Document[]) => unknown = (docs) => docs,
): void {
  const domain = runtime.domainOf(collection);
  const ids = routableIds(read.filter);
  if (domain === undefined || ids === undefined || !runtime.shadows.picks()) return;
  runtime.shadows.start({
    domain,
    collection,
    primaryResult,
    primaryMs,
    primaryAgain,
    candidate: async (db) => asPrimary(await readFromPostgres(runtime, collection, read, db)),
    readsPool: true,
    shape: {
      ...(read.projection && { projection: read.projection }),
      ...(read.sort && { sort: read.sort }),
    },
  });
}

/** The filter's shape for an error: its field names, never its values. */
function describeFilter(filter: Document | undefined): string {
  const keys = Object.keys(filter ?? {});
  return keys.length === 0 ? 'nothing (every document)' : keys.map((k) => `"${k}"`).join(', ');
}
