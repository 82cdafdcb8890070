import type { Document } from 'bson';
import type { Model, Query, Schema } from 'mongoose';
import type { Runtime } from '../runtime.js';
import { type RoutedRead, readFromPostgres, readRoute, shadowRoutedRead } from './read-routing.js';
import type { SortSpec } from './sort-documents.js';

type AnyQuery = Query<unknown, unknown>;

/** The query operations routed: `findById` is a `findOne`. */
const READS: ('find' | 'findOne')[] = ['find', 'findOne'];

/**
 * The read hooks of the Mongoose plugin: `find` and `findOne` (so `findById`) routed by phase
 * (see `readRoute`), by the same helpers as the driver wrapper.
 * - In `shadow_read`, the query runs on MongoDB as always; its post hook hands the answer
 *   (and the time since the pre hook) to a shadow comparison, for reads by `_id`.
 * - In `pg_read`, `pg_primary` and `pg_only`, the pre hook answers from PostgreSQL and skips
 *   the MongoDB query (`skipMiddlewareFunction`); documents are hydrated unless the query is
 *   `lean`. A filter on anything but `_id` fails with `SHADOW_READ_NOT_ROUTABLE`.
 * Queries in `internal` (the plugin's own id captures before a write) are never routed.
 *
 * @example
 * import type { Schema } from 'mongoose';
 * declare const runtime: Runtime;
 * declare const schema: Schema;
 * mongooseReadHooks(runtime, new WeakSet())(schema);
 */
export function mongooseReadHooks(runtime: Runtime, internal: WeakSet<object>): (schema: Schema) => void {
  const started = new WeakMap<object, number>();
  return (schema) => {
    schema.pre(READS, { document: false, query: true }, async function (this: AnyQuery) {
      if (internal.has(this)) return;
      const name = this.model.collection.collectionName;
      const route = readRoute(runtime.phase(name));
      if (route === 'mongo') return;
      if (route === 'shadow') {
        started.set(this, performance.now());
        return;
      }
      // The filter as MongoDB would get it: a string id cast to the ObjectId it stands for.
      this.cast(this.model);
      const docs = await readFromPostgres(runtime, name, routedRead(this));
      const lean = Boolean((this.mongooseOptions() as { lean?: unknown }).lean);
      const model = this.model as Model<unknown>;
      const answers = lean ? docs : docs.map((d) => model.hydrate(d));
      const result = opOf(this) === 'findOne' ? (answers[0] ?? null) : answers;
      // Kareem skips the query (and still runs the post hooks) when a pre hook throws this.
      throw (model.base as { skipMiddlewareFunction(result: unknown): unknown }).skipMiddlewareFunction(
        result,
      );
    });
    schema.post(READS, { document: false, query: true }, function (this: AnyQuery, answer: unknown) {
      const since = started.get(this);
      if (since === undefined) return;
      started.delete(this);
      const primaryMs = performance.now() - since;
      const name = this.model.collection.collectionName;
      const read = routedRead(this);
      const driver = this.model.db.db?.collection(name);
      if (driver === undefined) return;
      const { filter, ...options } = read;
      const again =
        opOf(this) === 'findOne'
          ? () => driver.findOne(filter, options as never)
          : () => driver.find(filter, options as never).toArray();
      shadowRoutedRead(runtime, name, read, answer, primaryMs, again);
    });
  };
}

/** The query's filter (cast, once Mongoose or the pre hook has cast it) and shaping options. */
function routedRead(query: AnyQuery): RoutedRead {
  const options = query.getOptions() as { sort?: SortSpec; skip?: number; limit?: number };
  const projection = query.projection() as Document | undefined | null;
  return {
    filter: query.getFilter() as Document,
    ...(projection !== undefined && projection !== null && { projection }),
    ...(options.sort !== undefined && { sort: options.sort }),
    ...(options.skip !== undefined && { skip: options.skip }),
    ...(options.limit !== undefined && { limit: options.limit }),
  };
}

/**
 * The query's operation name (`findOne`, `updateMany`, …), which Mongoose keeps on `op`.
 *
 * @example
 * import type { Query } from 'mongoose';
 * declare const query: Query<unknown, unknown>;
 * opOf(query)   // e.g. 'findOne' for a findById
 */
export function opOf(query: Query<unknown, unknown>): string {
  return (query as unknown as { op?: string }).op ?? 'query';
}
