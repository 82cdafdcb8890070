import { plainJsonToBson } from '../ejson/extended-json-to-bson.js';
import type { RawRecord } from '../ejson/raw-records.js';
import { mayGoAsFrame, type RecordFrame } from '../ejson/record-batches.js';
import { smallJsonObject } from '../ejson/record-to-frame.js';
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
  if (!mayGoAsFrame(record)) return undefined;
  const object = smallJsonObject(record, (text) => !mayHoldLargeInteger(text));
  if (object === undefined) return undefined;
  const choice = chooseId({ value: object, position: index, path: '' }, object, rule, someHaveIds);
  if ('code' in choice) return undefined;
  const bytes = plainJsonToBson(choice.id, object, choice.idKeys);
  return bytes === undefined ? undefined : { frame: { offset: record.offset, bytes } };
}
