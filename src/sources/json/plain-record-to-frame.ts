import { isUtf8 } from 'node:buffer';
import { plainJsonToBson } from '../ejson/extended-json-to-bson.js';
import type { RawRecord } from '../ejson/raw-records.js';
import { mayGoAsFrame, type RecordFrame } from '../ejson/record-batches.js';
import { SIZE_CHECK_THRESHOLD, stripBom } from '../ejson/record-to-document.js';
import { mentionsBsonType } from '../ejson/record-to-frame.js';
import { mayHoldLargeInteger } from './exact-integers.js';
import { chooseId, type PlainIdRule } from './plain-records.js';

/**
 * A record of a streamed plain JSON array written straight to BSON (`plainJsonToBson`), for a
 * raw read (the backfill): the frame its document would give (`recordToDocument`, then
 * `plainRecordsToDocs`, then `BSON.serialize` in `batchRecords`), without building the
 * document and its Int32/Double objects, which cost the reading thread as much as
 * `JSON.parse`. Undefined for every record that needs more (damaged, oversized, not UTF-8,
 * not JSON, not an object, no id by the rule, a 16-digit integer literal, a `_bsontype` key
 * bson would read as a type, anything `plainJsonToBson` leaves out, or a record the full path
 * keeps decoded): the caller then takes the full path, which gives what it always gave.
 *
 * @example
 * declare const record: RawRecord;
 * const frame = plainRecordToFrame(record, 0, {}, true); // undefined: take the full path
 */
export function plainRecordToFrame(
  record: RawRecord,
  index: number,
  rule: PlainIdRule,
  someHaveIds: boolean,
): RecordFrame | undefined {
  if (record.length > SIZE_CHECK_THRESHOLD || !mayGoAsFrame(record) || mentionsBsonType(record.bytes))
    return undefined;
  if (!isUtf8(record.bytes)) return undefined;
  const text = stripBom(record.bytes.toString('utf8'));
  if (mayHoldLargeInteger(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const object = value as Record<string, unknown>;
  const choice = chooseId({ value, position: index, path: '' }, object, rule, someHaveIds);
  if ('code' in choice) return undefined;
  const bytes = plainJsonToBson(choice.id, object, choice.idKeys);
  return bytes === undefined ? undefined : { frame: { offset: record.offset, bytes } };
}
