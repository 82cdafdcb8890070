import { BSON, type Document, EJSON } from 'bson';
import type { Collection } from 'mongodb';
import { FerryError } from '../../core/errors.js';
import type { RawMode } from '../bson/batch-builder.js';
import { DESERIALIZE_OPTIONS } from '../bson/decode-frame.js';
import type { BsonFrame } from '../bson/read-frame.js';
import { recoverId } from '../bson/recover-id.js';
import type { SourceBatch, SourceReject } from '../types.js';
import { ALL_TYPE_ALIASES, type IdBound, idIntervalFilter } from './bson-order.js';
import { isCursorLost, isUnsupportedFilter, type MongoErrorContext, mongoError } from './mongo-errors.js';

/**
 * Which `$type` aliases the server accepts, learned once per source. Real MongoDB takes them
 * all, so nothing is probed there; FerretDB 1.24 rejects decimal, minKey, maxKey, undefined,
 * symbol, dbPointer, javascript and javascriptWithScope, and the first rejected filter makes
 * us ask about each alias once.
 */
export class TypeAliasSupport {
  #aliases: readonly string[] = ALL_TYPE_ALIASES;
  #narrowed = false;

  get aliases(): readonly string[] {
    return this.#aliases;
  }

  /** Learn the accepted aliases; false when already learned (so the failure was something else). */
  async narrow(collection: Collection): Promise<boolean> {
    if (this.#narrowed) return false;
    const accepted: string[] = [];
    for (const alias of ALL_TYPE_ALIASES) {
      try {
        const filter: Document = { _id: { $type: alias } };
        await collection.find(filter, { limit: 1, projection: { _id: 1 } }).toArray();
        accepted.push(alias);
      } catch (error) {
        if (!isUnsupportedFilter(error)) throw error;
      }
    }
    this.#aliases = accepted;
    this.#narrowed = true;
    return true;
  }
}

/** One `_id`-ordered read over part of a collection. */
export interface IdOrderedRead {
  readonly collection: Collection;
  /** The name batches carry (`orders`, or `shop.orders` when reading every database). */
  readonly name: string;
  /** Start here (a range start is inclusive, a resume point exclusive); absent = first document. */
  readonly lower?: IdBound;
  /** Stop before this `_id`; absent = read to the end. */
  readonly upper?: { readonly id: unknown };
  readonly batchSize: number;
  readonly signal?: AbortSignal;
  readonly types: TypeAliasSupport;
  readonly errorContext: MongoErrorContext;
  /** Hand the server's BSON over undecoded (`SourceBatch.raw`), for the backfill's fast path. */
  readonly raw?: boolean;
}

/** A cursor that vanished this often in one read means something is wrong beyond idle timeouts. */
const MAX_REOPENS = 5;

/**
 * Stream documents in `_id` order as {@link SourceBatch}es of at most `batchSize` documents.
 *
 * - Documents arrive as raw BSON and are decoded with `promoteValues: false`, so numbers keep
 *   their BSON type and `bytes` is exact. A document that does not decode (invalid UTF-8 from
 *   an old driver) becomes a reject with its raw bytes, and the read goes on.
 * - With `raw`, nothing is decoded here: the batch carries the server's document bytes as
 *   frames, the same shape a dump or an archive hands over, so the backfill encodes them with
 *   the same encoder (and decodes, or rejects, only what that encoder hands back). Only each
 *   batch's last `_id` is read out of its bytes, for the resume position.
 * - Memory is bounded by one batch plus the driver's current server batch (`batchSize`); the
 *   source wraps this in `readAhead` (read-ahead.ts), which holds one batch more.
 * - A lost cursor (idle timeout while the consumer was slow) is reopened after the last `_id`
 *   already taken, so nothing repeats and nothing is skipped.
 * - The signal is checked per document and passed to the driver, so a pending fetch stops too.
 *
 * @example
 * import type { Document } from 'bson';
 * import type { Collection } from 'mongodb';
 * declare const collection: Collection;
 * declare const types: TypeAliasSupport;
 * declare const errorContext: MongoErrorContext;
 * declare function load(docs: readonly Document[]): Promise<void>;
 * for await (const batch of readIdOrdered({ collection, name: 'orders', batchSize: 1000, types, errorContext })) {
 *   await load(batch.docs); // the next batch is fetched only after this returns
 * }
 */
export async function* readIdOrdered(read: IdOrderedRead): AsyncGenerator<SourceBatch> {
  const { collection, name, batchSize, signal } = read;
  const raw: RawMode | undefined = read.raw
    ? { context: { collection: name }, noteRejects: () => {} }
    : undefined;
  let lower = read.lower;
  /** In raw mode, the last document taken, whose `_id` is read only when a position needs it. */
  let lastFrame: Uint8Array | undefined;
  let docs: Document[] = [];
  let rejects: SourceReject[] = [];
  let frames: BsonFrame[] = [];
  let bytes = 0;
  let offset = 0;
  let reopens = 0;
  const settleLower = () => {
    if (lastFrame === undefined) return;
    lower = { id: frameId(lastFrame, name), inclusive: false };
    lastFrame = undefined;
  };
  const take = () => {
    settleLower();
    const batch: SourceBatch = {
      collection: name,
      docs,
      rejects,
      // A batch is only cut after a document whose _id is known, so `lower` is set here.
      position: { kind: 'id', id: lower?.id },
      bytes,
      ...(raw && frames.length > 0 && { raw: { frames, ...raw } }),
    };
    docs = [];
    rejects = [];
    frames = [];
    bytes = 0;
    return batch;
  };
  const pending = () => docs.length + rejects.length + frames.length;

  for (;;) {
    signal?.throwIfAborted();
    settleLower();
    const filter = idIntervalFilter(
      { ...(lower && { lower }), ...(read.upper && { upper: read.upper }) },
      read.types.aliases,
    );
    const cursor = collection.find(filter, {
      sort: { _id: 1 },
      // Without the hint, MongoDB may plan a collection scan plus an in-memory sort, which
      // fails past 100 MB; the _id index gives the order for free. FerretDB ignores hints.
      hint: { _id: 1 },
      batchSize,
      raw: true,
      ...(signal && { signal }),
    });
    try {
      for await (const bson of cursor as unknown as AsyncIterable<Buffer>) {
        signal?.throwIfAborted();
        bytes += bson.byteLength;
        if (raw) {
          // A view into the server's reply, which stays alive only as long as this batch does.
          frames.push({ offset, bytes: bson });
          lastFrame = bson;
        } else {
          const decoded = decode(bson, name);
          if (decoded.doc) docs.push(decoded.doc);
          else rejects.push(decoded.reject);
          lower = { id: decoded.id, inclusive: false };
        }
        offset += bson.byteLength;
        if (pending() >= batchSize) yield take();
      }
      if (pending() > 0) yield take();
      return;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (isCursorLost(error) && reopens < MAX_REOPENS) {
        reopens++;
        continue;
      }
      if (isUnsupportedFilter(error) && pending() === 0 && (await read.types.narrow(collection))) {
        continue;
      }
      throw mongoError({ ...read.errorContext, collection: name }, error);
    } finally {
      await cursor.close().catch(() => {});
    }
  }
}

/**
 * The `_id` of a document as the server sent it: cut out of the first field (where the
 * server always stores it) without decoding the rest; decoded in full, UTF-8 unchecked, only
 * if that fails, since a bad string elsewhere must not lose the resume point.
 */
function frameId(bson: Uint8Array, collection: string): unknown {
  const id = recoverId(bson);
  if (id !== undefined) return id;
  return decode(bson, collection).id;
}

type Decoded =
  | { doc: Document; id: unknown; reject?: never }
  | { doc?: never; id: unknown; reject: SourceReject };

function decode(raw: Uint8Array, collection: string): Decoded {
  try {
    const doc = BSON.deserialize(raw, DESERIALIZE_OPTIONS);
    return { doc, id: doc._id };
  } catch (cause) {
    // Decoding again without UTF-8 checks recovers the _id (and so the resume point) of a
    // document whose only fault is a bad string somewhere inside.
    let id: unknown;
    try {
      id = BSON.deserialize(raw, { ...DESERIALIZE_OPTIONS, validation: { utf8: false } })._id;
    } catch {
      throw new FerryError(`the server sent a document that is not valid BSON in ${collection}`, {
        code: 'SOURCE_BAD_DOCUMENT',
        category: 'input',
        cause,
        where: { collection },
      });
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    const where = { collection, id: describeId(id) };
    return {
      id,
      // A copy: the driver's buffer is a view into a whole server batch we must not pin.
      reject: { collection, id, raw: raw.slice(), code: 'SOURCE_BAD_DOCUMENT', reason, where },
    };
  }
}

/** An `_id` as text for error locations: strings as they are, anything else as canonical EJSON. */
export function describeId(id: unknown): string {
  if (id === undefined) return 'undefined';
  return typeof id === 'string' ? id : EJSON.stringify(id, { relaxed: false });
}
