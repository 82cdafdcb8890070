import { isUtf8 } from 'node:buffer';
import { extendedJsonToBson } from './extended-json-to-bson.js';
import type { RawRecord } from './raw-records.js';
import type { RecordFrame } from './record-batches.js';
import { SIZE_CHECK_THRESHOLD, stripBom } from './record-to-document.js';

/**
 * An export record written straight to BSON (`extendedJsonToBson`), for a raw read (the
 * backfill): the frame `BSON.serialize(recordToDocument(record).doc)` would give, without
 * building the document. Undefined for every record that needs more (damaged, oversized,
 * not UTF-8, not JSON, not a document, a `_bsontype` key, or a value beyond the common shapes): the caller then
 * takes `recordToDocument`, which gives the document or the reject it always gave.
 *
 * @example
 * declare const record: RawRecord;
 * declare const context: RecordContext;
 * const result = recordToFrame(record) ?? recordToDocument(record, context);
 */
export function recordToFrame(record: RawRecord): RecordFrame | undefined {
  const object = smallJsonObject(record);
  const bytes = object === undefined ? undefined : extendedJsonToBson(object);
  return bytes === undefined ? undefined : { frame: { offset: record.offset, bytes } };
}

/**
 * A record as the JSON object it holds, for a writer straight to BSON; undefined when it
 * must take the full path instead: oversized, holding a `_bsontype` key, not UTF-8, refused
 * by `admit` (given the text, for a writer's own checks), not JSON, or not an object.
 *
 * @example
 * declare const record: RawRecord;
 * const object = smallJsonObject(record, (text) => !text.includes('NaN'));
 */
export function smallJsonObject(
  record: RawRecord,
  admit: (text: string) => boolean = () => true,
): Record<string, unknown> | undefined {
  if (record.oversize || record.length > SIZE_CHECK_THRESHOLD || mentionsBsonType(record.bytes))
    return undefined;
  if (!isUtf8(record.bytes)) return undefined;
  const text = stripBom(record.bytes.toString('utf8'));
  if (!admit(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

/**
 * Whether a record's text holds `"_bsontype"`. bson reads an object with that key as one of
 * its own types, or refuses it, so only the full path can say what such a record gives (today:
 * a reject); a writer straight to BSON would load it as an ordinary field.
 */
function mentionsBsonType(bytes: Buffer): boolean {
  return bytes.includes(BSONTYPE_KEY);
}

const BSONTYPE_KEY = Buffer.from('"_bsontype"');
