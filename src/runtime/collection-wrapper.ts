import type { Document } from 'bson';
import {
  type AnyBulkWriteOperation,
  type Collection,
  MongoBulkWriteError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  ObjectId,
  type UpdateResult,
} from 'mongodb';
import type { MirrorMode } from './mirror.js';
import type { Runtime } from './runtime.js';
import { DRIVER_READS } from './shadow/driver-reads.js';

/**
 * The write path for applications on the official driver: a `Collection` whose writes are
 * mirrored to PostgreSQL while the collection's domain is in a mirrored phase, and whose
 * `findOne` and `find` are routed by phase (src/runtime/shadow/driver-reads.ts): MongoDB, then
 * shadowed against PostgreSQL in `shadow_read`, then PostgreSQL by `_id` from `pg_read` on.
 * Every other method (counts, indexes, aggregation) is the driver's own, untouched.
 *
 * Which entities a write touched must be known exactly, since FerretDB has neither
 * transactions nor change streams to tell afterwards:
 * - by `_id` when the operation names it (an insert, a filter on a plain `_id`);
 * - otherwise the ids are captured BEFORE the write (for deletes there is no after), and the
 *   write is then pinned to them: `{ $and: [filter, { _id: <captured> }] }`. A document that
 *   starts to match between the capture and the write is therefore not touched, exactly as if
 *   it had been written just after; MongoDB gives multi-document writes no isolation anyway.
 *   An `updateOne` whose captured document stopped matching in between is captured again.
 * - upserted and inserted ids come from the result.
 * After MongoDB answers (success decides; a failure is rethrown unchanged), the ids are copied
 * with `copyEntitiesToPostgres`: copying an entity the write did not change after all (a
 * failed or partial write) is harmless, since a copy is the primary's current state. Only a
 * write that never reached MongoDB (no server) copies nothing.
 */

/**
 * Per-collection options.
 *
 * @example
 * declare const runtime: Runtime;
 * const events = runtime.collection('events', { mirror: 'async' } satisfies WrapOptions);
 */
export interface WrapOptions {
  /** Default: the runtime's mirror mode. */
  readonly mirror?: MirrorMode;
}

/** Tries at capturing a single document before the write matches the filter unpinned. */
const CAPTURE_TRIES = 3;

/**
 * Wrap a driver `Collection` so its writes are mirrored (see above); `runtime.collection(name)`
 * does this for the runtime's database.
 *
 * @example
 * import type { MongoClient } from 'mongodb';
 * declare const runtime: Runtime;
 * declare const client: MongoClient;
 * const users = wrapCollection(runtime, client.db('shop').collection('users'));
 * await users.updateMany({ plan: 'trial' }, { $set: { plan: 'free' } });   // every matched user copied
 * await users.deleteOne({ email: 'a@example.com' });                       // deleted in PostgreSQL too
 */
export function wrapCollection<T extends Document>(
  runtime: Runtime,
  collection: Collection<T>,
  options: WrapOptions = {},
): Collection<T> {
  const coll = collection as unknown as Collection<Document>;
  const name = collection.collectionName;
  const mirror: Mirror = (ids, operation, written) =>
    runtime.mirror(name, ids, operation, {
      mirror: options.mirror ?? runtime.mirrorMode,
      ...(written !== undefined && { written }),
    });
  const writes: Record<string, (args: unknown[]) => Promise<unknown>> = {
    insertOne: ([doc, opts]) => {
      const id = ensureId(doc as Document, opts);
      return mirrored(
        mirror,
        'insertOne',
        [id],
        () => coll.insertOne(doc as Document, opts as never),
        (r) => [r.insertedId],
      );
    },
    insertMany: ([docs, opts]) => {
      const ids = (docs as Document[]).map((d) => ensureId(d, opts));
      return mirrored(
        mirror,
        'insertMany',
        ids,
        () => coll.insertMany(docs as Document[], opts as never),
        (r) => Object.values(r.insertedIds),
      );
    },
    updateOne: ([filter, update, opts]) =>
      single(
        coll,
        mirror,
        'updateOne',
        filter as Document,
        opts,
        (f) => coll.updateOne(f, update as never, opts as never),
        UPDATE_RESULT,
      ),
    replaceOne: ([filter, replacement, opts]) =>
      single(
        coll,
        mirror,
        'replaceOne',
        filter as Document,
        opts,
        (f) => coll.replaceOne(f, replacement as Document, opts as never),
        UPDATE_RESULT,
      ),
    deleteOne: ([filter, opts]) =>
      single(coll, mirror, 'deleteOne', filter as Document, opts, (f) => coll.deleteOne(f, opts as never), {
        matched: (r) => r.deletedCount > 0,
        upserted: () => undefined,
      }),
    updateMany: ([filter, update, opts]) =>
      many(
        coll,
        mirror,
        'updateMany',
        filter as Document,
        opts,
        (f) => coll.updateMany(f, update as never, opts as never),
        (r) => r.upsertedId,
      ),
    deleteMany: ([filter, opts]) =>
      many(
        coll,
        mirror,
        'deleteMany',
        filter as Document,
        opts,
        (f) => coll.deleteMany(f, opts as never),
        () => undefined,
      ),
    findOneAndUpdate: ([filter, update, opts]) =>
      findAndModify(coll, mirror, 'findOneAndUpdate', filter as Document, opts, (f, o) =>
        coll.findOneAndUpdate(f, update as never, o),
      ),
    findOneAndReplace: ([filter, replacement, opts]) =>
      findAndModify(coll, mirror, 'findOneAndReplace', filter as Document, opts, (f, o) =>
        coll.findOneAndReplace(f, replacement as Document, o),
      ),
    findOneAndDelete: ([filter, opts]) =>
      findAndModify(coll, mirror, 'findOneAndDelete', filter as Document, opts, (f, o) =>
        coll.findOneAndDelete(f, o),
      ),
    bulkWrite: ([operations, opts]) => bulkWrite(coll, mirror, operations as AnyBulkWriteOperation[], opts),
  };
  return new Proxy(collection, {
    get(target, property, receiver) {
      // Reads go where the phase says (MongoDB, shadowed, or PostgreSQL by _id): see driver-reads.ts.
      const read = typeof property === 'string' ? DRIVER_READS[property] : undefined;
      if (read !== undefined) return (...args: unknown[]) => read(runtime, coll, args);
      const write = typeof property === 'string' ? writes[property] : undefined;
      if (write !== undefined)
        return (...args: unknown[]) =>
          // The primary rule first (refused while PostgreSQL is the primary, under the domain
          // lock in pg_read); then, in phase `mongo` or for a collection in no domain, the
          // driver's own call, nothing else.
          runtime.guardMongoWrite(name, async () => {
            if (!runtime.mirrors(name))
              return (Reflect.get(target, property, target) as (...a: unknown[]) => unknown).apply(
                target,
                args,
              );
            return write(args);
          });
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

type Mirror = (ids: readonly unknown[], operation: string, written?: Promise<boolean>) => Promise<void>;

/** How `updateOne` and `replaceOne` say whether they matched, and which id they upserted. */
const UPDATE_RESULT = {
  matched: (r: UpdateResult) => r.matchedCount > 0 || r.upsertedCount > 0,
  upserted: (r: UpdateResult) => r.upsertedId,
};

/**
 * The driver adds an `_id` to a document without one (mutating it); done here first, the same
 * way, so the id is known whether the write succeeds or not. With `forceServerObjectId` the
 * server picks it, and the result names it.
 */
function ensureId(doc: Document, opts: unknown): unknown {
  if (
    doc._id === undefined &&
    (opts as { forceServerObjectId?: boolean } | undefined)?.forceServerObjectId !== true
  )
    doc._id = new ObjectId();
  return doc._id;
}

/**
 * Run the write, then mirror `ids` plus what the result adds. A failure is rethrown after
 * mirroring the candidates (a partial write is copied as it is), unless the write never left
 * this process.
 *
 * The copy of `ids` starts together with the write (`written`): an inline mirror takes the
 * entities' locks while MongoDB writes, and reads them only once the write is done; ids that
 * only the result names (upserted, inserted by the server) are copied after.
 */
async function mirrored<R>(
  mirror: Mirror,
  operation: string,
  ids: readonly unknown[],
  run: () => Promise<R>,
  more: (result: R) => readonly unknown[] = () => [],
): Promise<R> {
  let settle: (sent: boolean) => void = () => {};
  const written = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  const early = ids.length > 0 ? mirror(ids, operation, written) : undefined;
  const rest = async (extra: readonly unknown[]) => {
    await early;
    const after = extra.filter((id) => !ids.includes(id));
    if (after.length > 0 || early === undefined) await mirror(after, operation);
  };
  let result: R;
  try {
    result = await run();
  } catch (error) {
    const sent = !neverSent(error);
    settle(sent);
    if (sent) await rest(idsOfFailedBulk(error));
    else await early;
    throw error;
  }
  settle(true);
  await rest(more(result));
  return result;
}

/** The write certainly did not reach a server: nothing can have changed. */
export function neverSent(error: unknown): boolean {
  if (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  )
    return true;
  // bulkWrite wraps a server selection failure into a MongoBulkWriteError, copying its fields
  // (the topology `reason` among them) and reporting nothing written.
  if (!(error instanceof MongoBulkWriteError) || [error.writeErrors].flat().length > 0) return false;
  const r = error.result;
  const written = r.insertedCount + r.matchedCount + r.deletedCount + r.upsertedCount;
  return written === 0 && (error as { reason?: unknown }).reason !== undefined;
}

/** Ids a failed bulk write reports as inserted or upserted before it failed. */
function idsOfFailedBulk(error: unknown): unknown[] {
  const result = (
    error as { result?: { insertedIds?: Record<number, unknown>; upsertedIds?: Record<number, unknown> } }
  ).result;
  if (result === undefined || result === null) return [];
  return [...Object.values(result.insertedIds ?? {}), ...Object.values(result.upsertedIds ?? {})];
}

/**
 * The `_id` a filter names as a plain value (`{ _id: x }` or `{ _id: { $eq: x } }`), else undefined.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const id: ObjectId;
 * declare const a: ObjectId;
 * declare const b: ObjectId;
 * plainId({ _id: id, status: 'open' })   // id
 * plainId({ _id: { $in: [a, b] } })      // undefined
 */
export function plainId(filter: Document | undefined): unknown {
  if (filter === undefined || filter === null || !Object.hasOwn(filter, '_id')) return undefined;
  const value: unknown = filter._id;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  if ((value as { _bsontype?: unknown })._bsontype !== undefined) return value;
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((k) => k.startsWith('$'))) {
    return keys.length === 1 && keys[0] === '$eq' ? (value as { $eq: unknown }).$eq : undefined;
  }
  return value;
}

/** Options of the write that decide which document it matches first. */
function matchOptions(opts: unknown): Document {
  const o = (opts ?? {}) as { sort?: unknown; collation?: unknown; hint?: unknown; session?: unknown };
  return {
    ...(o.sort !== undefined && { sort: o.sort }),
    ...(o.collation !== undefined && { collation: o.collation }),
    ...(o.hint !== undefined && { hint: o.hint }),
    ...(o.session !== undefined && { session: o.session }),
  };
}

async function captureOne(coll: Collection<Document>, filter: Document, opts: unknown): Promise<unknown> {
  const doc = await coll.findOne(filter, {
    projection: { _id: 1 },
    promoteValues: false,
    ...matchOptions(opts),
  });
  return doc?._id;
}

/** The ids of every document the filter matches now (a write on many documents ignores `sort`). */
async function captureAll(coll: Collection<Document>, filter: Document, opts: unknown): Promise<unknown[]> {
  const { sort: _sort, ...match } = matchOptions(opts);
  const docs = await coll.find(filter, { projection: { _id: 1 }, promoteValues: false, ...match }).toArray();
  return docs.map((d) => d._id as unknown);
}

/** A write on one document: by its plain `_id`, or captured and pinned (see the module doc). */
async function single<R>(
  coll: Collection<Document>,
  mirror: Mirror,
  operation: string,
  filter: Document,
  opts: unknown,
  run: (filter: Document) => Promise<R>,
  result: { matched: (r: R) => boolean; upserted: (r: R) => unknown },
): Promise<R> {
  const more = (r: R) => [result.upserted(r)].filter((id) => id !== undefined && id !== null);
  const id = plainId(filter);
  if (id !== undefined) return mirrored(mirror, operation, [id], () => run(filter), more);
  for (let attempt = 1; ; attempt++) {
    const captured = await captureOne(coll, filter, opts);
    // Nothing matches: the write matches nothing either, or upserts (its id is in the result).
    if (captured === undefined) return mirrored(mirror, operation, [], () => run(filter), more);
    const r = await mirrored(
      mirror,
      operation,
      [captured],
      () => run({ $and: [filter, { _id: captured }] }),
      more,
    );
    if (result.matched(r) || attempt >= CAPTURE_TRIES) return r;
  }
}

/** A write on every matching document: the ids captured before, the write pinned to them. */
async function many<R>(
  coll: Collection<Document>,
  mirror: Mirror,
  operation: string,
  filter: Document,
  opts: unknown,
  run: (filter: Document) => Promise<R>,
  upserted: (r: R) => unknown,
): Promise<R> {
  const more = (r: R) => [upserted(r)].filter((id) => id !== undefined && id !== null);
  const id = plainId(filter);
  if (id !== undefined) return mirrored(mirror, operation, [id], () => run(filter), more);
  const ids = await captureAll(coll, filter, opts);
  if (ids.length === 0) return mirrored(mirror, operation, [], () => run(filter), more);
  return mirrored(mirror, operation, ids, () => run({ $and: [filter, { _id: { $in: ids } }] }), more);
}

/** What `findOneAnd*` return with `includeResultMetadata`. */
interface ModifyResult {
  readonly value: Document | null;
  readonly lastErrorObject?: { readonly upserted?: unknown };
}

/**
 * `findOneAndUpdate`/`Replace`/`Delete`: run with the result metadata (which names an upserted
 * id even when the projection hides `_id`), and answer in the shape the caller asked for.
 */
async function findAndModify(
  coll: Collection<Document>,
  mirror: Mirror,
  operation: string,
  filter: Document,
  opts: unknown,
  run: (filter: Document, options: never) => Promise<unknown>,
): Promise<unknown> {
  const asked = (opts ?? {}) as { includeResultMetadata?: boolean };
  const options = { ...asked, includeResultMetadata: true } as never;
  const r = (await single(
    coll,
    mirror,
    operation,
    filter,
    opts,
    (f) => run(f, options) as Promise<ModifyResult>,
    {
      matched: (m) => m.value !== null || m.lastErrorObject?.upserted !== undefined,
      upserted: (m) => m.lastErrorObject?.upserted,
    },
  )) as ModifyResult;
  return asked.includeResultMetadata === true ? r : r.value;
}

/** `bulkWrite`: each operation's ids found as above, the filters pinned, ids from the result added. */
async function bulkWrite(
  coll: Collection<Document>,
  mirror: Mirror,
  operations: readonly AnyBulkWriteOperation[],
  opts: unknown,
): Promise<unknown> {
  const ids: unknown[] = [];
  const pinned: AnyBulkWriteOperation[] = [];
  for (const op of operations) pinned.push(await pinOperation(coll, op, opts, ids));
  return mirrored(
    mirror,
    'bulkWrite',
    ids,
    () => coll.bulkWrite(pinned, opts as never),
    (r) => [...Object.values(r.insertedIds ?? {}), ...Object.values(r.upsertedIds ?? {})],
  );
}

async function pinOperation(
  coll: Collection<Document>,
  op: AnyBulkWriteOperation,
  opts: unknown,
  ids: unknown[],
): Promise<AnyBulkWriteOperation> {
  if ('insertOne' in op) {
    ids.push(ensureId(op.insertOne.document, opts));
    return op;
  }
  const [kind, spec] = Object.entries(op)[0] as [
    string,
    { filter: Document; sort?: unknown; collation?: unknown; hint?: unknown },
  ];
  const id = plainId(spec.filter);
  if (id !== undefined) {
    ids.push(id);
    return op;
  }
  if (kind === 'updateMany' || kind === 'deleteMany') {
    const found = await captureAll(coll, spec.filter, spec);
    if (found.length === 0) return op;
    ids.push(...found);
    return {
      [kind]: { ...spec, filter: { $and: [spec.filter, { _id: { $in: found } }] } },
    } as AnyBulkWriteOperation;
  }
  const captured = await captureOne(coll, spec.filter, spec);
  if (captured === undefined) return op;
  ids.push(captured);
  return { [kind]: { ...spec, filter: { $and: [spec.filter, { _id: captured }] } } } as AnyBulkWriteOperation;
}
