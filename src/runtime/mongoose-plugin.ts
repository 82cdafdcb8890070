import type { Document } from 'bson';
import { ObjectId } from 'bson';
import type { Model, Query, Schema } from 'mongoose';
import { neverSent, plainId } from './collection-wrapper.js';
import type { MirrorMode } from './mirror.js';
import type { Runtime } from './runtime.js';
import { mongooseReadHooks, opOf } from './shadow/mongoose-reads.js';

/**
 * The write path for applications on Mongoose: a schema plugin whose hooks mirror each write
 * to PostgreSQL while the model's collection is in a mirrored phase, by the same rules as the
 * driver wrapper (collection-wrapper.ts): ids by `_id`, or captured before the write and the
 * query pinned to them; upserts get their `_id` chosen up front, so it is known either way.
 * Mongoose is an optional peer dependency: only its types are imported here, so Ferry loads
 * without it.
 *
 * Covered: `save` (and so `create`), `insertMany`, `updateOne`, `updateMany`, `replaceOne`,
 * `findOneAndUpdate` (`findByIdAndUpdate`), `findOneAndReplace`, `deleteOne` (the query and
 * the document method), `deleteMany`, `findOneAndDelete` (`findByIdAndDelete`).
 *
 * Reads (`find`, `findOne`, `findById`) are routed by phase, as the driver wrapper routes
 * them: see src/runtime/shadow/mongoose-reads.ts.
 */

/** Query operations the plugin hooks: which affect one document, which every match. */
const SINGLE_QUERIES = [
  'updateOne',
  'replaceOne',
  'deleteOne',
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
] as const;
const MANY_QUERIES = ['updateMany', 'deleteMany'] as const;
const QUERIES = [...SINGLE_QUERIES, ...MANY_QUERIES];

type AnyQuery = Query<unknown, unknown>;
type Mirror = (collection: string, ids: readonly unknown[], operation: string) => Promise<void>;

/**
 * A Mongoose plugin that mirrors the model's writes through `runtime`. Register it globally
 * (before the models are compiled) or per schema.
 *
 * @example
 * import mongoose from 'mongoose';
 * import type pg from 'pg';
 * import { createRuntime, ferryMongoosePlugin, loadConfig } from 'ferry';
 * declare const pool: pg.Pool;
 * declare const userSchema: mongoose.Schema;
 * const config = await loadConfig();
 * const db = mongoose.connection.db;   // set once mongoose.connect(…) resolved
 * if (db === undefined) throw new Error('connect mongoose first');
 * const runtime = await createRuntime({ mongo: db, pg: pool, config });
 * mongoose.plugin(ferryMongoosePlugin(runtime));               // or: userSchema.plugin(…)
 * const User = mongoose.model('User', userSchema);
 * await User.updateMany({ plan: 'trial' }, { plan: 'free' });  // every matched user copied to PostgreSQL
 */
export function ferryMongoosePlugin(
  runtime: Runtime,
  options: { mirror?: MirrorMode } = {},
): (schema: Schema) => void {
  const mirror: Mirror = (collection, ids, operation) =>
    runtime.mirror(collection, ids, operation, { mirror: options.mirror ?? runtime.mirrorMode });
  /** Ids a query will touch, found by its pre hook for its post hook. */
  const pending = new WeakMap<object, unknown[]>();
  /** The plugin's own reads (capturing ids before a write): always MongoDB's, never routed. */
  const internal = new WeakSet<object>();
  const readHooks = mongooseReadHooks(runtime, internal);

  return (schema: Schema) => {
    readHooks(schema);
    schema.post('save', async (doc: { _id?: unknown; collection?: { collectionName: string } }) => {
      const name = doc.collection?.collectionName;
      if (name !== undefined && runtime.mirrors(name)) await mirror(name, [doc._id], 'save');
    });
    schema.post(
      'deleteOne',
      { document: true, query: false },
      async (doc: { _id?: unknown; collection?: { collectionName: string } }) => {
        const name = doc.collection?.collectionName;
        if (name !== undefined && runtime.mirrors(name)) await mirror(name, [doc._id], 'deleteOne');
      },
    );
    schema.post('insertMany', async function (this: Model<unknown>, docs: { _id?: unknown }[]) {
      const name = this.collection.collectionName;
      if (runtime.mirrors(name))
        await mirror(
          name,
          docs.map((d) => d._id),
          'insertMany',
        );
    } as never);

    schema.pre(QUERIES, { document: false, query: true }, async function (this: AnyQuery) {
      const name = this.model.collection.collectionName;
      if (!runtime.mirrors(name)) return;
      const operation = opOf(this);
      pending.set(
        this,
        await captureIds(this, (MANY_QUERIES as readonly string[]).includes(operation), internal),
      );
    });
    schema.post(QUERIES, { document: false, query: true }, async function (this: AnyQuery, result: unknown) {
      const ids = pending.get(this);
      if (ids === undefined) return;
      pending.delete(this);
      await mirror(this.model.collection.collectionName, [...ids, ...resultIds(result)], opOf(this));
    });
    // A failed query: what it may have written is copied as it is now (see the wrapper).
    schema.post(QUERIES, { document: false, query: true }, async function (
      this: AnyQuery,
      error: unknown,
      _result: unknown,
      next: (e?: unknown) => void,
    ) {
      const ids = pending.get(this);
      pending.delete(this);
      if (ids !== undefined && !neverSent(error))
        await mirror(this.model.collection.collectionName, ids, opOf(this));
      next(error);
    } as never);
  };
}

/**
 * The ids the query will touch, and the query pinned to them (`$and` with `_id`), so that a
 * document starting to match in between is not touched unseen. An upsert that matches nothing
 * gets its `_id` chosen now.
 */
async function captureIds(query: AnyQuery, many: boolean, internal: WeakSet<object>): Promise<unknown[]> {
  const filter = query.getFilter() as Document;
  const id = plainId(filter);
  if (id !== undefined) return [id];
  const options = query.getOptions() as { sort?: unknown; upsert?: boolean };
  const model = query.model as Model<unknown>;
  let ids: unknown[];
  if (many) {
    const finder = model.find(filter, { _id: 1 }).lean();
    internal.add(finder);
    const found = (await finder) as { _id: unknown }[];
    ids = found.map((d) => d._id);
  } else {
    const finder = model.findOne(filter, { _id: 1 });
    if (options.sort !== undefined) finder.sort(options.sort as never);
    internal.add(finder);
    const found = (await finder.lean()) as { _id: unknown } | null;
    ids = found === null ? [] : [found._id];
  }
  if (ids.length > 0) {
    query.and([{ _id: many ? { $in: ids } : ids[0] }] as never);
    return ids;
  }
  return options.upsert === true ? [chooseUpsertId(query)] : [];
}

/** Put an `_id` into what an upsert inserts, unless the update already sets one. */
function chooseUpsertId(query: AnyQuery): unknown {
  const update = (query.getUpdate() ?? {}) as Document;
  const operators = Object.keys(update).some((k) => k.startsWith('$'));
  if (!operators) {
    update._id ??= new ObjectId();
    query.setUpdate(update as never);
    return update._id;
  }
  const set = (update.$set ?? {}) as Document;
  if (set._id !== undefined) return set._id;
  const onInsert = (update.$setOnInsert ?? {}) as Document;
  onInsert._id ??= new ObjectId();
  update.$setOnInsert = onInsert;
  query.setUpdate(update as never);
  return onInsert._id;
}

/** Ids a query's result names: an upserted id, or the document a `findOneAnd*` returned. */
function resultIds(result: unknown): unknown[] {
  if (result === null || typeof result !== 'object') return [];
  const r = result as {
    upsertedId?: unknown;
    _id?: unknown;
    value?: { _id?: unknown };
    lastErrorObject?: { upserted?: unknown };
  };
  return [r.upsertedId, r._id, r.value?._id, r.lastErrorObject?.upserted].filter(
    (id) => id !== undefined && id !== null,
  );
}
