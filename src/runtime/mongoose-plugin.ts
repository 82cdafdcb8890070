import type { Document } from 'bson';
import { ObjectId } from 'bson';
import type { Model, Query, Schema } from 'mongoose';
import { neverSent, plainId } from './collection-wrapper.js';
import { mirrorsWrites } from './domains.js';
import type { MirrorMode } from './mirror.js';
import type { MongoWriteHold, Runtime } from './runtime.js';
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
  /** The domain lock a write holds from its pre hook to its post hook (phase `pg_read`). */
  const holds = new WeakMap<object, MongoWriteHold>();
  /** insertMany's post hook gets new document objects: its hold is found by the first `_id`. */
  const insertHolds = new Map<string, MongoWriteHold>();
  /** The copy a save's or query's pre hook started, for its post hooks. */
  const copies = new WeakMap<object, EarlyCopy>();
  /**
   * Start the copy of the entities a write will touch before MongoDB writes: an inline copy
   * takes their locks while the write runs, as the driver wrapper's does (see
   * `Mirror.entities`), and reads the primary only once the post hook says the write is done.
   * Under a hold, by the phase read under the lock, and inline, so the copy is done before the
   * lock is let go. Undefined when the phase mirrors nothing.
   */
  const begin = (
    hold: MongoWriteHold | undefined,
    collection: string,
    ids: readonly unknown[],
    operation: string,
  ): EarlyCopy | undefined => {
    if (!(hold === undefined ? runtime.mirrors(collection) : mirrorsWrites(hold.phase))) return undefined;
    let settle: (sent: boolean) => void = () => {};
    const written = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const mirror = hold === undefined ? (options.mirror ?? runtime.mirrorMode) : 'inline';
    return { ids, settle, copied: runtime.mirror(collection, ids, operation, { mirror, written }) };
  };
  /** Settle a started copy after the write (or its failure), wait for it, let the hold go. */
  const end = async (copy: EarlyCopy | undefined, hold: MongoWriteHold | undefined, error?: unknown) => {
    try {
      if (copy !== undefined) {
        copy.settle(error === undefined || !neverSent(error));
        await copy.copied;
      }
    } finally {
      await hold?.release();
    }
  };
  /** Copy after the write (insertMany's entities are new: no earlier copy can be running). */
  const settleAfter = async (
    hold: MongoWriteHold | undefined,
    collection: string,
    ids: readonly unknown[],
    operation: string,
  ) => end(begin(hold, collection, ids, operation), hold);
  const take = <K extends object, V>(map: WeakMap<K, V>, key: K) => {
    const value = map.get(key);
    map.delete(key);
    return value;
  };

  /** The plugin's own reads (capturing ids before a write): always MongoDB's, never routed. */
  const internal = new WeakSet<object>();
  const readHooks = mongooseReadHooks(runtime, internal);

  return (schema: Schema) => {
    readHooks(schema);
    // Before every write: refused while PostgreSQL is the primary, the lock taken in pg_read.
    // A document's deleteOne needs no hooks of its own: Mongoose runs it as a `deleteOne`
    // query filtered by the `_id`, whose query hooks hold and copy it (a second early copy of
    // the same entity would wait forever on the first one's lock).
    schema.pre('save', async function (this: MirroredDocument) {
      const name = this.collection?.collectionName;
      if (name === undefined) return;
      const hold = await runtime.holdMongoWrite(name);
      if (hold !== undefined) holds.set(this, hold);
      const copy = begin(hold, name, [this._id], 'save');
      if (copy !== undefined) copies.set(this, copy);
    });
    schema.pre('insertMany', async function (this: Model<unknown>, docs: unknown) {
      const list = (Array.isArray(docs) ? docs : [docs]) as { _id?: unknown }[];
      const hold = await runtime.holdMongoWrite(this.collection.collectionName);
      if (hold === undefined || list.length === 0) {
        await hold?.release();
        return;
      }
      list[0]!._id ??= new ObjectId();
      insertHolds.set(String(list[0]!._id), hold);
    } as never);

    schema.post('save', async (doc: MirroredDocument) => end(take(copies, doc), take(holds, doc)));
    schema.post('insertMany', async function (this: Model<unknown>, docs: { _id?: unknown }[]) {
      const key = docs[0] === undefined ? undefined : String(docs[0]._id);
      const hold = key === undefined ? undefined : insertHolds.get(key);
      if (key !== undefined) insertHolds.delete(key);
      await settleAfter(
        hold,
        this.collection.collectionName,
        docs.map((d) => d._id),
        'insertMany',
      );
    } as never);
    // A failed save or insert: the hold goes back (a failed query's is settled below). An
    // async error handler keeps the error by resolving; calling `next` as well would leave
    // Mongoose's callback promise rejected and unheard. It must still declare `next`: Mongoose
    // tells error handlers by their number of parameters.
    schema.post('save', (async (error: unknown, doc: object, _next: unknown) => {
      await end(take(copies, doc), take(holds, doc), error);
    }) as never);
    schema.post('insertMany', (async (_error: unknown, docs: unknown, _next: unknown) => {
      const first = (Array.isArray(docs) ? docs[0] : docs) as { _id?: unknown } | undefined;
      const key = first?._id === undefined ? undefined : String(first._id);
      if (key === undefined) return;
      const hold = insertHolds.get(key);
      insertHolds.delete(key);
      await hold?.release();
    }) as never);

    schema.pre(QUERIES, { document: false, query: true }, async function (this: AnyQuery) {
      const name = this.model.collection.collectionName;
      const hold = await runtime.holdMongoWrite(name);
      if (hold !== undefined) holds.set(this, hold);
      if (!(hold === undefined ? runtime.mirrors(name) : mirrorsWrites(hold.phase))) return;
      const operation = opOf(this);
      const ids = await captureIds(this, (MANY_QUERIES as readonly string[]).includes(operation), internal);
      const copy = begin(hold, name, ids, operation);
      if (copy !== undefined) copies.set(this, copy);
    });
    schema.post(QUERIES, { document: false, query: true }, async function (this: AnyQuery, result: unknown) {
      const copy = take(copies, this);
      const hold = take(holds, this);
      try {
        await end(copy, undefined);
        if (copy === undefined) return;
        // Ids only the result names (an upsert's, when the filter matched nothing) come after.
        const started = new Set(copy.ids.map(idKey));
        const more = resultIds(result).filter((id) => !started.has(idKey(id)));
        if (more.length > 0) await settleAfter(hold, this.model.collection.collectionName, more, opOf(this));
      } finally {
        await hold?.release();
      }
    });
    // A failed query: what it may have written is copied as it is now (see the wrapper).
    schema.post(QUERIES, { document: false, query: true }, async function (
      this: AnyQuery,
      error: unknown,
      _result: unknown,
      _next: unknown,
    ) {
      await end(take(copies, this), take(holds, this), error);
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

/**
 * A copy started in a pre hook, before MongoDB writes; the post hooks settle it: true after
 * the write, false when it never left this process (nothing is copied then).
 */
interface EarlyCopy {
  readonly ids: readonly unknown[];
  readonly settle: (sent: boolean) => void;
  readonly copied: Promise<void>;
}

/** What the document hooks read of a Mongoose document. */
interface MirroredDocument {
  readonly _id?: unknown;
  readonly collection?: { readonly collectionName: string };
}

/** An id comparable across instances: the result's ObjectId is not the captured one. */
function idKey(id: unknown): string {
  return `${typeof id}:${String(id)}`;
}
