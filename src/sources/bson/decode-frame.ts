import { BSON, type Document } from 'bson';
import type { SourceReject } from '../types.js';
import { MAX_DOCUMENT_BYTES } from './limits.js';
import type { BsonFrame } from './read-frame.js';
import { describeId, recoverId } from './recover-id.js';

/**
 * The project-wide representation, plus `bsonRegExp`: without it a regex comes back as a JS
 * `RegExp`, which silently drops flags JavaScript lacks (`x`, `l`), so it would not round-trip.
 */
export const DESERIALIZE_OPTIONS = { promoteValues: false, bsonRegExp: true } as const;

/**
 * A decoded frame: a document, or a reject that the caller accounts for and reads past; or,
 * in raw mode (`ReadOptions.raw`), the frame itself, for the consumer to decode.
 */
export type BsonEntry =
  | { readonly kind: 'doc'; readonly doc: Document; readonly offset: number; readonly size: number }
  | { readonly kind: 'raw'; readonly frame: BsonFrame; readonly offset: number; readonly size: number }
  | {
      readonly kind: 'reject';
      readonly reject: SourceReject;
      readonly offset: number;
      readonly size: number;
    };

export interface DecodeContext {
  /** The input file; absent for a live server, whose documents have no file offset. */
  readonly file?: string;
  /** The collection name batches use (what `Source.read` takes). */
  readonly collection: string;
  /** The namespace shown in messages (`db.collection`); defaults to `collection`. */
  readonly namespace?: string;
}

/**
 * Deserialize one well-framed document with the project-wide representation (numbers stay
 * `Int32`/`Double`/`Long`/`Decimal128`). A document whose bytes do not decode, or that is
 * over MongoDB's 16 MiB limit, becomes a reject: its framing was sound, so the next document
 * can still be found and the run can account for this one instead of stopping.
 *
 * @example
 * declare const frame: BsonFrame;
 * const entry = decodeFrame(frame, { file: 'orders.bson', collection: 'orders' });
 * if (entry.kind === 'reject') console.log(entry.reject.code, entry.reject.where.offset);
 */
export function decodeFrame(frame: BsonFrame, context: DecodeContext): BsonEntry {
  const { bytes, offset } = frame;
  const size = bytes.length;
  let doc: Document;
  try {
    doc = BSON.deserialize(bytes, DESERIALIZE_OPTIONS);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const reject = makeReject(
      frame,
      context,
      recoverId(bytes),
      'SOURCE_BAD_DOCUMENT',
      `BSON does not decode: ${message}`,
    );
    return { kind: 'reject', reject, offset, size };
  }
  if (size > MAX_DOCUMENT_BYTES) {
    const reason = `document is ${size} bytes, over MongoDB's ${MAX_DOCUMENT_BYTES}-byte limit`;
    const reject = makeReject(frame, context, doc._id, 'SOURCE_DOC_TOO_LARGE', reason);
    return { kind: 'reject', reject, offset, size };
  }
  return { kind: 'doc', doc, offset, size };
}

/**
 * A frame as the entry a reader yields: decoded (`decodeFrame`), or in raw mode
 * (`ReadOptions.raw`) the frame itself, for its consumer to decode.
 */
export function frameEntry(frame: BsonFrame, context: DecodeContext, raw: boolean | undefined): BsonEntry {
  return raw
    ? { kind: 'raw', frame, offset: frame.offset, size: frame.bytes.length }
    : decodeFrame(frame, context);
}

function makeReject(
  frame: BsonFrame,
  context: DecodeContext,
  id: unknown,
  code: string,
  reason: string,
): SourceReject {
  const idText = describeId(id);
  return {
    collection: context.collection,
    ...(id !== undefined && { id }),
    raw: frame.bytes,
    code,
    reason,
    where: {
      ...(context.file !== undefined && { file: context.file, offset: frame.offset }),
      collection: context.namespace ?? context.collection,
      ...(idText !== undefined && { id: idText }),
    },
  };
}
