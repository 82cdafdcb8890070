import { type Document, EJSON } from 'bson';
import type { MappingReject } from '../mapping/reject.js';
import type { SourceReject } from '../sources/types.js';
import type { RejectSample } from './types.js';

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
  /**
   * Where in the source: the file, and the line (JSON) and/or byte offset (BSON, JSON) of the
   * document. Known for read rejects; null where the stage cannot know (a live server, a
   * document rejected after it was read).
   */
  readonly file: string | null;
  readonly line: number | null;
  readonly offset: number | null;
}

const NO_LOCATION = { file: null, line: null, offset: null } as const;

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
    ...NO_LOCATION,
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
    file: reject.where.file ?? null,
    line: reject.where.line ?? null,
    offset: reject.where.offset ?? null,
  };
}

/**
 * A document PostgreSQL refused (a constraint, a value the column type rejects). `reason` is
 * the target's message, which keeps row values out (target-error.ts).
 */
export function rejectFromLoad(doc: Document, code: string, reason: string): RejectRecord {
  return {
    stage: 'load',
    docId: idText(doc._id),
    ...rawDocument(doc),
    code,
    reason,
    path: null,
    ...NO_LOCATION,
  };
}

function rawDocument(doc: Document): { raw: string; rawEncoding: RawEncoding } {
  // Canonical, not relaxed: an int32 must come back an int32 when the reject is retried.
  // JSON.stringify escapes NUL and lone surrogates, so the text is always storable.
  return {
    raw: EJSON.stringify(withUndefinedWrapped(doc) as Document, { relaxed: false }),
    rawEncoding: 'ejson',
  };
}

/**
 * The value with every BSON undefined written as `{"$undefined": true}`: `EJSON.stringify`
 * would drop the key (and `ferry rejects retry` then load the document without it). Plain
 * objects and arrays are copied only where they hold one.
 */
function withUndefinedWrapped(value: unknown): unknown {
  if (value === undefined) return { $undefined: true };
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items = value.map(withUndefinedWrapped);
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const wrapped = withUndefinedWrapped(item);
    if (wrapped === item) continue;
    copy ??= { ...value };
    Object.defineProperty(copy, key, {
      value: wrapped,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy ?? value;
}

/** A reject as summaries show it: everything but the document. */
export function rejectSample(reject: RejectRecord): RejectSample {
  const { docId: id, stage, code, reason, file, line, offset } = reject;
  return { id, stage, code, reason, file, line, offset };
}

/** PostgreSQL text cannot hold NUL; a lone surrogate has no UTF-8 form. */
function storableText(text: string): boolean {
  return !/[\u0000\p{Cs}]/u.test(text);
}
