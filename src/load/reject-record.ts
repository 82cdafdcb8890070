import { type Document, EJSON } from 'bson';
import type { MappingReject } from '../mapping/reject.js';
import type { SourceReject } from '../sources/types.js';

/** The stage at which a document was turned away (DESIGN.md invariant 2). */
export type RejectStage = 'read' | 'transform' | 'load';

/**
 * How `raw` holds the document: `ejson` (canonical Extended JSON of a decoded document),
 * `text` (a source line exactly as read, maybe not even JSON), `base64` (bytes that could
 * not be decoded, such as a damaged BSON document).
 */
export type RawEncoding = 'ejson' | 'text' | 'base64';

/**
 * One row for `ferry.rejects`, before it has a run, a schema and an id. Built from whatever
 * turned the document away; `raw` keeps the whole document so `ferry rejects retry` can load
 * it again once the mapping is fixed.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * rejectFromMapping(doc, { code: 'STRING_CONTAINS_NUL', path: 'bio', reason: '…' })
 * // { stage: 'transform', docId: '{"$oid":"…"}', raw: '{"_id":{"$oid":"…"},…}', rawEncoding: 'ejson', … }
 */
export interface RejectRecord {
  readonly stage: RejectStage;
  /** The `_id` as canonical Extended JSON, null when it could not be recovered. */
  readonly docId: string | null;
  readonly raw: string;
  readonly rawEncoding: RawEncoding;
  readonly code: string;
  readonly reason: string;
  /** Where in the document (dotted), when the stage knows. */
  readonly path: string | null;
}

/**
 * `_id` (or any value) as canonical Extended JSON, the text `ferry.rejects.doc_id` holds.
 *
 * @example
 * import { Int32, ObjectId } from 'bson';
 * idText(new ObjectId('65a1…'))   // '{"$oid":"65a1…"}'
 * idText(new Int32(7))            // '{"$numberInt":"7"}'
 */
export function idText(id: unknown): string | null {
  if (id === undefined) return null;
  try {
    return EJSON.stringify(id as Document, { relaxed: false });
  } catch {
    return null;
  }
}

/** A document `toRows` refused. */
export function rejectFromMapping(doc: Document, reject: MappingReject): RejectRecord {
  return {
    stage: 'transform',
    docId: idText(doc._id),
    ...rawDocument(doc),
    code: reject.code,
    reason: reject.reason,
    path: reject.path === '' ? null : reject.path,
  };
}

/** A document the source could not read: the bytes or text as they were. */
export function rejectFromSource(reject: SourceReject): RejectRecord {
  const raw =
    typeof reject.raw === 'string' && storableText(reject.raw)
      ? { raw: reject.raw, rawEncoding: 'text' as const }
      : { raw: Buffer.from(reject.raw).toString('base64'), rawEncoding: 'base64' as const };
  return {
    stage: 'read',
    docId: reject.id === undefined ? (reject.where.id ?? null) : idText(reject.id),
    ...raw,
    code: reject.code,
    reason: reject.reason,
    path: reject.where.path ?? null,
  };
}

/**
 * A document PostgreSQL refused (a constraint, a value the column type rejects). `reason` is
 * the target's message, which keeps row values out (target-error.ts).
 */
export function rejectFromLoad(doc: Document, code: string, reason: string): RejectRecord {
  return { stage: 'load', docId: idText(doc._id), ...rawDocument(doc), code, reason, path: null };
}

function rawDocument(doc: Document): { raw: string; rawEncoding: RawEncoding } {
  // Canonical, not relaxed: an int32 must come back an int32 when the reject is retried.
  // JSON.stringify escapes NUL and lone surrogates, so the text is always storable.
  return { raw: EJSON.stringify(doc, { relaxed: false }), rawEncoding: 'ejson' };
}

/** PostgreSQL text cannot hold NUL; a lone surrogate has no UTF-8 form. */
function storableText(text: string): boolean {
  return !/[\u0000\p{Cs}]/u.test(text);
}
