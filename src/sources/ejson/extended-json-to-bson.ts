import { BsonWriter } from '../bson/bson-writer.js';
import { DOUBLE_TEXT, INT_TEXT, INT32_MAX, INT32_MIN, OID_TEXT } from './extended-json-wrappers.js';
import { writePlainDecimal128 } from './plain-decimal.js';

/**
 * A parsed Extended JSON document (a `JSON.parse` result) written straight to BSON, for the
 * shapes mongoexport writes nearly all of: plain values, nested documents and arrays, and the
 * single-key wrappers `$oid`, `$numberInt`, `$numberLong`, `$numberDouble`, `$numberDecimal`
 * and `$date`. The bytes are exactly `BSON.serialize(parseExportLine(text))`: the same number
 * rules (`jsonNumberToBson`), the same wrapper checks, keys in the same order. Building the
 * bson objects and then serializing them cost a reading thread more than `JSON.parse` itself.
 *
 * Returns undefined for anything else (another `$` key, a malformed wrapper, an integer beyond
 * ±2^53, an unreadable date, a key holding NUL, `NaN`): the caller then takes the full path,
 * which builds the value or gives the reject it always gave. Nothing here throws for bad input.
 *
 * @example
 * extendedJsonToBson(JSON.parse('{"_id":{"$oid":"59b99db4cfa9a34dcd7885b6"},"n":1}'));
 * // → the bytes of BSON.serialize({ _id: new ObjectId('59b9…'), n: new Int32(1) })
 */
export function extendedJsonToBson(document: Record<string, unknown>): Buffer | undefined {
  writer.reset();
  wrappers = true;
  return writeDocument(document) ? writer.finish() : undefined;
}

/**
 * A plain JSON record (a `JSON.parse` result) written straight to BSON as `_id` (the id its
 * rule chose, `chooseId`) and then the record without `idKeys`: the bytes of
 * `BSON.serialize` of the document `plainRecordsToDocs` builds, numbers by the same rule. An
 * object with a `$` key is no wrapper here, and so is left to the full path, as are a key
 * that the full path's document would order differently (an index-like key such as "0" goes
 * before `_id` in an object; a second `_id` beside a configured idField takes the first
 * place) and everything `extendedJsonToBson` leaves to it.
 *
 * @example
 * plainJsonToBson('u1', { id: 'u1', n: 1 }, ['_id', 'id']);
 * // → the bytes of BSON.serialize({ _id: 'u1', n: new Int32(1) })
 */
export function plainJsonToBson(
  id: unknown,
  record: Record<string, unknown>,
  idKeys: readonly string[],
): Buffer | undefined {
  writer.reset();
  wrappers = false;
  const start = writer.openDocument();
  if (!writeValue('_id', id)) return undefined;
  for (const key in record) {
    if (idKeys.includes(key)) continue;
    const first = key.charCodeAt(0);
    if (key === '_id' || (first >= DIGIT_0 && first <= DIGIT_9)) return undefined;
    if (first === DOLLAR || key.includes('\u0000') || !writeValue(key, record[key])) return undefined;
  }
  writer.closeDocument(start);
  return writer.finish();
}

const writer = new BsonWriter();
/** Whether single-key `$` objects are Extended JSON wrappers (false for plain JSON). */
let wrappers = true;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** The largest time a JavaScript Date holds, in milliseconds either side of 1970. */
const MAX_DATE_MS = 8.64e15;
const DOLLAR = 36;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Write an object's elements as a BSON document; false if any value needs the full path. */
function writeDocument(document: Record<string, unknown>): boolean {
  const start = writer.openDocument();
  for (const key in document) {
    if (key.charCodeAt(0) === DOLLAR || key.includes('\u0000')) return false;
    if (!writeValue(key, document[key])) return false;
  }
  writer.closeDocument(start);
  return true;
}

function writeArray(array: readonly unknown[]): boolean {
  const start = writer.openDocument();
  for (let i = 0; i < array.length; i++) if (!writeValue(String(i), array[i])) return false;
  writer.closeDocument(start);
  return true;
}

function writeValue(key: string, value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      writer.string(key, value);
      return true;
    case 'number':
      return writeNumber(key, value);
    case 'boolean':
      writer.boolean(key, value);
      return true;
    case 'object':
      if (value === null) {
        writer.null(key);
        return true;
      }
      if (Array.isArray(value)) {
        writer.element(0x04, key);
        return writeArray(value);
      }
      return writeObject(key, value as Record<string, unknown>);
    default:
      return false;
  }
}

/** `jsonNumberToBson` with unsafe integers refused: Int32, else int64, else double. */
function writeNumber(key: string, value: number): boolean {
  if (Number.isInteger(value) && !Object.is(value, -0)) {
    if (value >= INT32_MIN && value <= INT32_MAX) {
      writer.int32(key, value);
      return true;
    }
    if (Number.isSafeInteger(value)) {
      writer.safeInteger64(0x12, key, value);
      return true;
    }
    // Beyond ±2^53 but within int64 the full path rejects it; beyond int64 it is a double.
    if (value >= -(2 ** 63) && value <= 2 ** 63) return false;
  }
  writer.double(key, value);
  return true;
}

/** A nested document, or the one common wrapper it is. */
function writeObject(key: string, object: Record<string, unknown>): boolean {
  let wrapper: string | undefined;
  let keys = 0;
  for (const k in object) {
    keys++;
    if (k.charCodeAt(0) === DOLLAR) wrapper = k;
  }
  if (wrapper === undefined) {
    writer.element(0x03, key);
    return writeDocument(object);
  }
  return wrappers && keys === 1 && writeWrapper(key, wrapper, object[wrapper]);
}

function writeWrapper(key: string, wrapper: string, inner: unknown): boolean {
  if (wrapper === '$date') return writeDate(key, inner);
  if (typeof inner !== 'string') return false;
  switch (wrapper) {
    case '$oid':
      if (!OID_TEXT.test(inner)) return false;
      writer.objectId(key, inner);
      return true;
    case '$numberInt': {
      const value = INT_TEXT.test(inner) ? Number(inner) : Number.NaN;
      if (!(value >= INT32_MIN && value <= INT32_MAX)) return false;
      writer.int32(key, value);
      return true;
    }
    case '$numberLong': {
      const value = int64Of(inner);
      if (value === undefined) return false;
      writer.int64(0x12, key, value);
      return true;
    }
    case '$numberDouble':
      // NaN is left to the full path: its bits are bson's to choose.
      if (inner === 'NaN' || !DOUBLE_TEXT.test(inner)) return false;
      writer.double(key, Number.parseFloat(inner));
      return true;
    case '$numberDecimal': {
      // Reserve first: the reservation may grow the writer into a new target buffer.
      const at = writer.reserve(0x13, key, 16);
      return writePlainDecimal128(inner, writer.bytes(), at);
    }
    default:
      return false;
  }
}

/** `{"$date": "ISO-8601"}` or `{"$date": {"$numberLong": "…"}}`, within a Date's range. */
function writeDate(key: string, inner: unknown): boolean {
  let time: number;
  if (typeof inner === 'string') time = Date.parse(inner);
  else {
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return false;
    const keys = Object.keys(inner);
    const digits = (inner as Record<string, unknown>).$numberLong;
    if (keys.length !== 1 || keys[0] !== '$numberLong' || typeof digits !== 'string') return false;
    const value = int64Of(digits);
    if (value === undefined) return false;
    time = Number(value);
  }
  if (!(Math.abs(time) <= MAX_DATE_MS)) return false;
  writer.safeInteger64(0x09, key, time);
  return true;
}

function int64Of(text: string): bigint | undefined {
  if (!INT_TEXT.test(text)) return undefined;
  const value = BigInt(text);
  return value >= INT64_MIN && value <= INT64_MAX ? value : undefined;
}
