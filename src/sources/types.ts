import type { Document } from 'bson';
import type { ErrorLocation } from '../core/errors.js';
import type { DecodeContext } from './bson/decode-frame.js';
import type { BsonFrame } from './bson/read-frame.js';

/**
 * The one contract every source implements (live MongoDB, mongodump directory, mongodump
 * archive, mongoexport/Extended JSON, plain JSON files).
 *
 * Documents keep every BSON type. Numbers stay wrapped (`Int32`, `Double`, `Long`,
 * `Decimal128`), exactly as `BSON.deserialize(bytes, { promoteValues: false })` and
 * `EJSON.parse(text, { relaxed: false })` return them, because inference needs to tell an
 * int32 from a double and the mapping must not round a Long through a JS number. A missing
 * field is absent from the object; null is `null`.
 *
 * @example
 * const source = await openSource('dump/');
 * source.kind   // 'dump'
 */
export type SourceKind = 'mongodb' | 'dump' | 'archive' | 'ejson' | 'json';

/**
 * A collection's name as users and the target see it: `collection` within the source's database.
 *
 * @example
 * declare const source: Source;
 * for (const c of await source.listCollections()) console.log(c.name, c.estimatedCount, c.indexes.length);
 */
export interface CollectionInfo {
  /**
   * The collection name as Ferry addresses it: the plain name, or `database.collection` when
   * the source spans several databases (a server URI without a database, a multi-db dump).
   */
  readonly name: string;
  /** The database it came from, when the source has one (a live server, a dump). */
  readonly database?: string;
  /** Indexes in MongoDB's own shape (`key`, `unique`, `sparse`, `partialFilterExpression`, `expireAfterSeconds`, …). */
  readonly indexes: readonly IndexSpec[];
  /** A cheap count if the source knows one without reading everything (metadata, estimatedDocumentCount). */
  readonly estimatedCount?: number;
}

/**
 * A MongoDB index definition, as `listIndexes` or a dump's metadata gives it.
 *
 * @example
 * const ttl: IndexSpec = { name: 'expires_1', key: { expires: 1 }, expireAfterSeconds: 0 };
 */
export interface IndexSpec {
  readonly name: string;
  readonly key: Readonly<Record<string, number | string>>;
  readonly unique?: boolean;
  readonly sparse?: boolean;
  readonly partialFilterExpression?: Document;
  readonly expireAfterSeconds?: number;
  /** Everything else the server reported (weights, default_language, collation, …), kept verbatim. */
  readonly options?: Document;
}

/**
 * Where a reader stands, so a later read can continue after the last committed document.
 * - `id`: the last `_id` read, for sources that can seek by `_id` (a live server reads `_id > after`).
 * - `offset`: bytes consumed and documents seen, for files read in file order.
 *
 * @example
 * declare const source: Source;
 * let checkpoint: ResumePosition | undefined;
 * for await (const batch of source.read('orders', { after: checkpoint })) checkpoint = batch.position;
 */
export type ResumePosition =
  | { readonly kind: 'id'; readonly id: unknown }
  | { readonly kind: 'offset'; readonly offset: number; readonly index: number };

/**
 * A document that could not be read, while the rest of the input still could. The caller
 * decides what to do with it (the backfill writes it to `ferry.rejects`).
 *
 * @example
 * declare const batch: SourceBatch;
 * for (const r of batch.rejects) console.log(r.collection, r.code, r.where.file, r.where.offset);
 */
export interface SourceReject {
  readonly collection: string;
  /** The `_id` if it could be recovered from the damaged input. */
  readonly id?: unknown;
  /** The raw bytes (BSON) or text (a JSON line) exactly as read. */
  readonly raw: Uint8Array | string;
  /** Stable error code, e.g. `SOURCE_BAD_JSON_LINE`, `SOURCE_DOC_TOO_LARGE`. */
  readonly code: string;
  readonly reason: string;
  readonly where: ErrorLocation;
}

/**
 * What a read yields: documents in source order plus any rejects met on the way.
 *
 * @example
 * declare const source: Source;
 * for await (const batch of source.read('orders')) console.log(batch.docs.length, batch.rejects.length, batch.bytes);
 */
export interface SourceBatch {
  readonly collection: string;
  readonly docs: readonly Document[];
  readonly rejects: readonly SourceReject[];
  /** Where to resume to continue right after this batch. */
  readonly position: ResumePosition;
  /** Bytes of input this batch consumed (raw BSON or text), for progress and throughput. */
  readonly bytes: number;
  /** With `ReadOptions.raw`, from a source that holds BSON: documents not decoded yet (`docs` is then empty). */
  readonly raw?: RawDocuments;
}

/**
 * Documents handed over as their BSON bytes, for a consumer that reads BSON itself (the
 * backfill's fast path, bson-copy/). The consumer decodes what it cannot read with
 * `decodeFrame(frame, context)`, which gives the document or the reject the source would have given.
 */
export interface RawDocuments {
  readonly frames: readonly BsonFrame[];
  readonly context: DecodeContext;
  /**
   * Report frames that did not decode (now rejects), before asking for the next batch: an
   * archive weighs its checksum against them, since a damaged document also breaks the checksum.
   */
  readonly noteRejects: (count: number) => void;
}

/**
 * How a source's documents are read: batch size, where to continue, and whether BSON may stay
 * undecoded.
 *
 * @example
 * declare const source: Source;
 * declare const checkpoint: ResumePosition;
 * for await (const batch of source.read('orders', { batchSize: 5000, after: checkpoint })) {
 *   console.log(batch.docs.length);
 * }
 */
export interface ReadOptions {
  /** Documents per batch (default 1000). */
  readonly batchSize?: number;
  /** Continue after this position (from a previous batch's `position`). */
  readonly after?: ResumePosition;
  readonly signal?: AbortSignal;
  /** Hand BSON documents over undecoded, in `SourceBatch.raw`, where the source can (dumps, archives, a live server). */
  readonly raw?: boolean;
}

/**
 * Statistics gathered by `inspect`: an exact count comes from reading (files) or from
 * `countDocuments` (a live server).
 *
 * @example
 * declare const source: Source;
 * for (const c of await inspectSource(source)) console.log(c.name, c.count, c.avgBytes, c.maxBytes);
 */
export interface CollectionStats {
  readonly name: string;
  readonly database?: string;
  readonly count: number;
  readonly avgBytes: number;
  readonly maxBytes: number;
  readonly indexes: readonly IndexSpec[];
  readonly rejects: number;
}

/**
 * Documents out of one place (a live server, a dump, an archive, export files, JSON files),
 * all behind this one interface. Open one with `openSource`, `close()` it at the end.
 *
 * @example
 * const source = await openSource('dump/shop/');
 * try {
 *   for (const { name } of await source.listCollections()) console.log(name, await source.countDocuments(name));
 * } finally {
 *   await source.close();
 * }
 */
export interface Source {
  readonly kind: SourceKind;
  /** The source as given by the user, with credentials redacted. */
  readonly location: string;
  /** Collections in a stable order (by name), excluding MongoDB's system collections. */
  listCollections(): Promise<readonly CollectionInfo[]>;
  /** Exact number of documents in a collection (reads the data where nothing cheaper is exact). */
  countDocuments(collection: string): Promise<number>;
  /** Stream one collection in batches. A live server streams in `_id` order. */
  read(collection: string, options?: ReadOptions): AsyncIterable<SourceBatch>;
  /**
   * Stream every collection (or those named) in one pass where the format interleaves them
   * (an archive); other sources read collection after collection.
   */
  readAll(options?: ReadOptions & { readonly only?: readonly string[] }): AsyncIterable<SourceBatch>;
  close(): Promise<void>;
}
