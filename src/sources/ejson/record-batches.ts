import { BSON, type Document } from 'bson';
import type { BsonFrame } from '../bson/read-frame.js';
import type { ReadOptions, SourceBatch, SourceReject } from '../types.js';
import type { RawRecord } from './raw-records.js';
import type { RecordResult } from './record-to-document.js';

/** A record already written as BSON by its converter (only asked for with `options.raw`). */
export interface RecordFrame {
  readonly frame: BsonFrame;
}

/** Where a batched read starts and what it reads, for {@link batchRecords}. */
export interface RecordBatching {
  readonly file: string;
  readonly collection: string;
  /** The resume point: the byte offset and the records (documents and rejects) before it. */
  readonly start: { readonly offset: number; readonly index: number };
  readonly options: ReadOptions;
}

/**
 * Records → the source's batches: each record converted by `convert` (given its index among
 * the file's records, counting rejects) into a document or a reject (or, only when
 * `options.raw` asks for frames, straight into a BSON frame), `batchSize` of them per batch, each batch ending at a resume position `{ kind: 'offset', offset, index }` (the byte
 * after its last record, the records so far). With `options.raw`, documents go out as BSON
 * frames (see `asFrame`). Shared by the Extended JSON source and plain JSON arrays.
 *
 * @example
 * declare const records: AsyncIterable<RawRecord[]>;
 * declare const convert: (record: RawRecord, index: number) => RecordResult;
 * const batching = { file: 'users.json', collection: 'users', start: { offset: 0, index: 0 }, options: {} };
 * for await (const batch of batchRecords(records, convert, batching)) console.log(batch.position);
 */
export async function* batchRecords(
  records: AsyncIterable<RawRecord[]>,
  convert: (record: RawRecord, index: number) => RecordResult | RecordFrame,
  batching: RecordBatching,
): AsyncGenerator<SourceBatch> {
  const { collection, options } = batching;
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  const raw = options.raw
    ? { context: { file: batching.file, collection }, noteRejects: () => {} }
    : undefined;
  let docs: Document[] = [];
  let rejects: SourceReject[] = [];
  let frames: BsonFrame[] = [];
  let { index, offset } = batching.start;
  let batchStart = offset;
  const take = (): SourceBatch => {
    const position = { kind: 'offset' as const, offset, index };
    const batch = { collection, docs, rejects, position, bytes: offset - batchStart };
    docs = [];
    rejects = [];
    batchStart = offset;
    if (raw === undefined || frames.length === 0) return batch;
    const withFrames = { ...batch, raw: { frames, ...raw } };
    frames = [];
    return withFrames;
  };
  for await (const chunk of records) {
    for (const record of chunk) {
      const result = convert(record, index);
      if ('reject' in result) rejects.push(result.reject);
      else if ('frame' in result) frames.push(result.frame);
      else {
        const frame = raw && asFrame(result.doc, record);
        if (frame) frames.push(frame);
        else docs.push(result.doc);
      }
      index++;
      offset = record.end;
      if (docs.length + rejects.length + frames.length >= batchSize) {
        yield take();
        options.signal?.throwIfAborted();
      }
    }
  }
  if (docs.length + rejects.length + frames.length > 0) yield take();
}

/**
 * A parsed document as BSON, so that in raw mode (the backfill) it takes the same encoder as
 * a dump's documents, on the encoding threads, instead of the row-by-row path on the main
 * thread: serializing costs about a third of that path. A record that may hold `$undefined`
 * (the word, or any `\u` escape that could spell it) stays decoded, since BSON.serialize
 * would write its undefined as null; so does one that does not serialize (too large).
 */
function asFrame(doc: Document, record: RawRecord): BsonFrame | undefined {
  if (!mayGoAsFrame(record)) return undefined;
  try {
    const bytes = BSON.serialize(doc);
    return { offset: record.offset, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a record's document may go out as a frame (`asFrame`): not one that may hold
 * `$undefined` or is oversized. A converter writing frames itself asks it too, so that the
 * same records go out as frames either way.
 *
 * @example
 * declare const record: RawRecord;
 * if (mayGoAsFrame(record)) console.log('framed on a raw read');
 */
export function mayGoAsFrame(record: RawRecord): boolean {
  return !(record.oversize || record.bytes.includes(UNDEFINED_WORD) || record.bytes.includes(UNICODE_ESCAPE));
}

const UNDEFINED_WORD = Buffer.from('undefined');
const UNICODE_ESCAPE = Buffer.from('\\u');
