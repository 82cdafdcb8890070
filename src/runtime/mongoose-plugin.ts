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
type Mirror = (
  collection: string,
  ids: readonly unknown[],
  operation: string,
  written?: PromiseLike<boolean>,
) => Promise<void>;

/**
 * A copy started in a pre hook, before MongoDB writes: an inline copy takes the entities'
 * locks while the write runs, as the driver wrapper's does (see `Mirror.entities`), and reads
 * the primary only once `settle` says the write is done. The post hooks settle it: true after
 * the write, false when it never left this process (nothing is copied then).
 */
interface EarlyCopy {
  readonly ids: readonly unknown[];
  readonly settle: (sent: boolean) => void;
  readonly copied: Promise<void>;
}

function startCopy(
  mirror: Mirror,
  collection: string,
  ids: readonly unknown[],
  operation: string,
): EarlyCopy {
  let settle: (sent: boolean) => void = () => {};
  const written = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  return { ids, settle, copied: mirror(collection, ids, operation, written) };
}

/** Settle a started copy after the write (or its failure) and wait for it. */
async function finishCopy(copy: EarlyCopy | undefined, error?: unknown): Promise<void> {
  if (copy === undefined) return;
  copy.settle(error === undefined || !neverSent(error));
  await copy.copied;
}

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
  const mirror: Mirror = (collection, ids, operation, written) =>
    runtime.mirror(collection, ids, operation, {
      mirror: options.mirror ?? runtime.mirrorMode,
      ...(written !== undefined && { written }),
    });
  /** The copy a document's or query's pre hook started, for its post hooks. */
  const pending = new WeakMap<object, EarlyCopy>();
  const take = (key: object): EarlyCopy | undefined => {
    const copy = pending.get(key);
    pending.delete(key);
    return copy;
  };
  /**
   * The error hook of a document write or a query: a failed write may still have written, so
   * what it touched is copied as it is now (see the wrapper), unless it never left this process.
   */
  const afterFailure = async function (
    this: object,
    error: unknown,
    _result: unknown,
    next: (e?: unknown) => void,
  ) {
    await finishCopy(take(this), error);
    next(error);
  };
  /**
   * A document's save: its copy starts before the write, by its `_id`. A document's deleteOne
   * needs no hook of its own: Mongoose runs it as a `deleteOne` query filtered by the `_id`,
   * whose query hooks copy it; a second early copy of the same entity would wait forever on
   * the first one's lock.
   */
  const documentWrite = (schema: Schema, hook: 'save') => {
    const where = { document: true, query: false } as const;
    schema.pre(hook, where, function (this: MirroredDocument) {
      const name = this.collection?.collectionName;
      if (name !== undefined && runtime.mirrors(name))
        pending.set(this, startCopy(mirror, name, [this._id], hook));
    });
    schema.post(hook, where, async (doc: MirroredDocument) => finishCopy(take(doc)));
    schema.post(hook, where, afterFailure as never);
  };

  /** The plugin's own reads (capturing ids before a write): always MongoDB's, never routed. */
  const internal = new WeakSet<object>();
  const readHooks = mongooseReadHooks(runtime, internal);

  return (schema: Schema) => {
    readHooks(schema);
    documentWrite(schema, 'save');
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
      const ids = await captureIds(this, (MANY_QUERIES as readonly string[]).includes(operation), internal);
      pending.set(this, startCopy(mirror, name, ids, operation));
    });
    schema.post(QUERIES, { document: false, query: true }, async function (this: AnyQuery, result: unknown) {
      const copy = take(this);
      if (copy === undefined) return;
      await finishCopy(copy);
      // Ids only the result names (an upsert's, when the filter matched nothing) come after.
      const started = new Set(copy.ids.map(idKey));
      const more = resultIds(result).filter((id) => !started.has(idKey(id)));
      if (more.length > 0) await mirror(this.model.collection.collectionName, more, opOf(this));
    });
    schema.post(QUERIES, { document: false, query: true }, afterFailure as never);
  };
}

/** What the document hooks read of a Mongoose document. */
interface MirroredDocument {
  readonly _id?: unknown;
  readonly collection?: { readonly collectionName: string };
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

/** An id comparable across instances: the result's ObjectId is not the captured one. */
function idKey(id: unknown): string {
  return `${typeof id}:${String(id)}`;
}
