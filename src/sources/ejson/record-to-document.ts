import { isUtf8 } from 'node:buffer';
import { BSON, type Document, ObjectId } from 'bson';
import type { SourceReject } from '../types.js';
import { InvalidDateError, UnsafeIntegerError } from './parse-extended-json.js';
import type { RawRecord } from './raw-records.js';

/** MongoDB's limit on one BSON document. */
export const MAX_BSON_DOCUMENT_BYTES = 16 * 1024 * 1024;
/**
 * BSON can be ~6.5x larger than its JSON text (`[0,0,…]`: 2 bytes of text, 13 of BSON per
 * element), so only documents whose text exceeds 16 MiB / 8 can be over the limit; below
 * that we skip the extra walk `calculateObjectSize` costs.
 */
export const SIZE_CHECK_THRESHOLD = MAX_BSON_DOCUMENT_BYTES / 8;
/** How much raw text a reject keeps of a record too long to buffer whole. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Where a record came from, for reject locations. */
export interface RecordContext {
  readonly file: string;
  readonly collection: string;
  /** Parse a record's text; the Extended JSON parser for exports, a plain one for JSON files. */
  readonly parse: (text: string) => unknown;
}

export type RecordResult = { readonly doc: Document } | { readonly reject: SourceReject };

/**
 * Turn one raw record into a document, or into a reject that says what is wrong and where,
 * so the caller can keep reading (DESIGN.md: nothing is silently dropped).
 *
 * Reject codes: `SOURCE_BAD_UTF8`, `SOURCE_BAD_JSON_LINE` (not JSON, or Extended JSON that
 * bson refuses), `SOURCE_UNSAFE_INTEGER`, `SOURCE_BAD_DATE`, `SOURCE_NOT_A_DOCUMENT`, `SOURCE_DOC_TOO_LARGE`.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const docs: Document[];
 * declare const record: RawRecord;
 * const rejects: SourceReject[] = [];
 * const result = recordToDocument(record, { file: 'users.json', collection: 'users', parse: parseExportLine });
 * if ('doc' in result) docs.push(result.doc); else rejects.push(result.reject);
 */
export function recordToDocument(record: RawRecord, context: RecordContext): RecordResult {
  const reject = (code: string, reason: string, raw: string | Uint8Array, id?: unknown): RecordResult => ({
    reject: {
      collection: context.collection,
      ...(id === undefined ? {} : { id }),
      raw,
      code,
      reason,
      where: {
        file: context.file,
        line: record.line,
        offset: record.offset,
        collection: context.collection,
        ...(id === undefined ? {} : { id: describeId(id) }),
      },
    },
  });
  if (record.oversize) {
    const text = record.bytes.toString('utf8');
    return reject(
      'SOURCE_DOC_TOO_LARGE',
      `record is ${record.length} bytes of text, over the ${record.bytes.length}-byte read limit; raw keeps only its first ${record.bytes.length} bytes`,
      text,
      recoverId(text, context.parse),
    );
  }
  if (!isUtf8(record.bytes)) {
    // Keep the exact bytes: decoding would replace the bad ones and hide the damage.
    const at = firstInvalidUtf8(record.bytes);
    return reject(
      'SOURCE_BAD_UTF8',
      `invalid UTF-8 at byte ${record.offset + at} (byte ${at} of the record)`,
      Uint8Array.from(record.bytes),
      recoverId(record.bytes.toString('utf8'), context.parse),
    );
  }
  const text = stripBom(record.bytes.toString('utf8'));
  let value: unknown;
  try {
    value = context.parse(text);
  } catch (error) {
    const [code, reason] =
      error instanceof UnsafeIntegerError
        ? ['SOURCE_UNSAFE_INTEGER', error.message]
        : error instanceof InvalidDateError
          ? ['SOURCE_BAD_DATE', error.message]
          : [
              'SOURCE_BAD_JSON_LINE',
              `not valid ${error instanceof SyntaxError ? 'JSON' : 'Extended JSON'}: ${(error as Error).message}`,
            ];
    return reject(code, reason, text, recoverId(text, context.parse));
  }
  if (!isPlainDocument(value)) {
    return reject('SOURCE_NOT_A_DOCUMENT', `expected a JSON object, found ${describeKind(value)}`, text);
  }
  if (record.length > SIZE_CHECK_THRESHOLD) {
    const size = BSON.calculateObjectSize(value);
    if (size > MAX_BSON_DOCUMENT_BYTES) {
      return reject(
        'SOURCE_DOC_TOO_LARGE',
        `document is ${size} bytes as BSON, over MongoDB's ${MAX_BSON_DOCUMENT_BYTES}-byte limit`,
        text,
        value._id,
      );
    }
  }
  return { doc: value };
}

function isPlainDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return (value as { _bsontype?: string })._bsontype ?? 'a non-document value';
  return `a ${typeof value}`;
}

/** The text without a leading byte order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// Matches `"_id": <value>` for the id shapes worth recovering from a damaged line.
const ID_PATTERN =
  /"_id"\s*:\s*(\{\s*"\$oid"\s*:\s*"[0-9a-fA-F]{24}"\s*\}|"(?:[^"\\]|\\.)*"|-?\d+|\{\s*"\$number(?:Int|Long)"\s*:\s*"-?\d+"\s*\})/;

/** The `_id` of a line we could not parse, when its text still shows one; else undefined. */
export function recoverId(text: string, parse: (text: string) => unknown): unknown {
  const match = ID_PATTERN.exec(text);
  if (!match?.[1]) return undefined;
  try {
    return (parse(`{"_id":${match[1]}}`) as Document)._id;
  } catch {
    return undefined;
  }
}

/** `_id` as text for messages: hex for ObjectIds, JSON for the rest. */
export function describeId(id: unknown): string {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return id;
  if (typeof id === 'object' && id !== null && 'toString' in id) return String(id);
  return JSON.stringify(id) ?? String(id);
}

/** Index of the first byte that breaks UTF-8 (only called on records `isUtf8` refused). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte → sequence length and the allowed range of the second byte (RFC 3629 table),
    // which rules out overlong forms, surrogates and code points above U+10FFFF.
    let length = 0;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      const [lo, hi] = k === 1 ? [low, high] : [0x80, 0xbf];
      if (c < lo || c > hi) return i;
    }
    i += length;
  }
  return bytes.length;
}
