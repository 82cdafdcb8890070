import { Binary, type Decimal128, Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { jsonNumberToBson } from '../sources/ejson/parse-extended-json.js';
import { decimalFromString } from './decimal-parts.js';
import { checkKey, checkString, rejectAt } from './reject.js';

/**
 * How any BSON value is written into a `jsonb` column or `_extra`: natural JSON wherever JSON
 * can hold the value, so SQL can query it (`(attrs->>'price')::numeric > 3`), and Extended
 * JSON type wrappers only where it cannot:
 * - numbers: an int32, an int64 within ±(2^53 - 1) and a finite double other than -0 are
 *   JSON numbers (JSON.stringify writes the shortest text that reads back as the same double,
 *   and `jsonb` keeps that decimal exactly). They read back as int32, int64 or double by value
 *   (`jsonNumberToBson`), equal under the canonical comparison, which compares numbers by exact
 *   value across BSON types. Decimal128, int64 beyond 2^53, NaN, ±Infinity and -0.0 keep their
 *   wrappers (`{"$numberDecimal": "…"}`, `{"$numberLong": "…"}`, `{"$numberDouble": "-0.0"}`).
 * - strings, booleans, null, arrays and documents are themselves;
 * - every other BSON type (ObjectId, date, binary, regex, timestamp, …) is its canonical
 *   Extended JSON wrapper; BSON undefined is `{"$undefined": true}`.
 *
 * One change makes it unambiguous: **a document key that starts with `$` or `~` is
 * written with a `~` prefix** (`$price` → `~$price`, `~x` → `~~x`).
 *
 * Why: MongoDB 5+ documents may have `$` keys, and plain Extended JSON cannot tell the
 * document `{ "$numberLong": "5" }` from the int64 5 (it parses it back as a Long; likewise
 * `{ "$date": … }`, `{ "$ref": …, "$id": … }`). After escaping, an object with a `$` key is
 * always an Extended JSON type wrapper, and every other object is a document.
 *
 * SQL stays natural for ordinary keys: `_extra->'nickname'`, `_extra #>> '{address,zip}'`.
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** The largest integer every step (JSON text, `jsonb` numeric, JSON.parse) holds exactly: 2^53 - 1. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_EXACT_LONG = Long.fromNumber(Number.MAX_SAFE_INTEGER);
const MIN_EXACT_LONG = Long.fromNumber(-Number.MAX_SAFE_INTEGER);

/** A double as a JSON number, except what JSON has no number for: NaN, ±Infinity and -0. */
function encodeDouble(x: number): JsonValue {
  if (Number.isFinite(x) && !Object.is(x, -0)) return x;
  if (Object.is(x, -0)) return { $numberDouble: '-0.0' };
  return { $numberDouble: String(x) };
}

/** BSON undefined in Ferry's JSON form: the Extended JSON wrapper. */
const UNDEFINED_JSON: JsonValue = Object.freeze({ $undefined: true });

/** Escape a document key for the JSON form. */
export function escapeKey(key: string): string {
  const first = key.charCodeAt(0);
  return first === 0x24 /* $ */ || first === 0x7e /* ~ */ ? `~${key}` : key;
}

/** Undo `escapeKey`. */
export function unescapeKey(key: string): string {
  return key.charCodeAt(0) === 0x7e ? key.slice(1) : key;
}

/**
 * A BSON value as Ferry's JSON form. Rejects (via `RejectSignal`) strings and keys that
 * PostgreSQL cannot store. `path` is a stack used only to name the place of a reject.
 *
 * @example
 * import { Decimal128, Int32 } from 'bson';
 * encodeJson({ n: new Int32(5), d: Decimal128.fromString('1.5'), $k: 'x' }, [])
 * // { n: 5, d: { $numberDecimal: '1.5' }, '~$k': 'x' }
 */
export function encodeJson(value: unknown, path: (string | number)[]): JsonValue {
  switch (typeof value) {
    case 'string':
      checkString(value, path);
      return value;
    case 'boolean':
      return value;
    case 'number':
      return encodeDouble(value);
    case 'bigint':
      return value >= -MAX_EXACT && value <= MAX_EXACT ? Number(value) : { $numberLong: value.toString() };
    case 'undefined':
      // BSON undefined (0x06), as BSON.deserialize gives it: kept, never dropped (invariant 2).
      return UNDEFINED_JSON;
    case 'object':
      if (value === null) return null;
      if (Array.isArray(value)) return encodeArray(value, path);
      return encodeObject(value, path);
    default:
      return rejectAt('UNSUPPORTED_VALUE', path, `a ${typeof value} cannot be stored in a BSON document`);
  }
}

function encodeArray(values: readonly unknown[], path: (string | number)[]): JsonValue[] {
  const out: JsonValue[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    path.push(i);
    out[i] = encodeJson(values[i], path);
    path.pop();
  }
  return out;
}

function encodeObject(value: object, path: (string | number)[]): JsonValue {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  if (typeof tag === 'string') return encodeBson(tag, value, path);
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms))
      rejectAt('DATE_OUT_OF_RANGE', path, 'invalid date (outside the JavaScript Date range)');
    return { $date: { $numberLong: String(ms) } };
  }
  if (value instanceof Uint8Array) return encodeBson('Binary', new Binary(value, 0), path);
  if (value instanceof RegExp) return encodeLeafViaEjson(value, path);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    rejectAt(
      'UNSUPPORTED_VALUE',
      path,
      `a ${proto?.constructor?.name ?? 'object'} cannot be stored in a BSON document`,
    );
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    checkKey(key, path);
    path.push(key);
    defineKey(out, escapeKey(key), encodeJson(child, path));
    path.pop();
  }
  return out;
}

function encodeBson(tag: string, value: object, path: (string | number)[]): JsonValue {
  switch (tag) {
    case 'Int32':
      return (value as Int32).value;
    case 'Long': {
      const long = value as Long;
      return long.greaterThanOrEqual(MIN_EXACT_LONG) && long.lessThanOrEqual(MAX_EXACT_LONG)
        ? long.toNumber()
        : { $numberLong: long.toString() };
    }
    case 'Double':
      return encodeDouble((value as Double).value);
    case 'Decimal128':
      return { $numberDecimal: (value as Decimal128).toString() };
    case 'ObjectId':
      return { $oid: (value as ObjectId).toHexString() };
    default:
      return encodeLeafViaEjson(value, path);
  }
}

/**
 * The rarer BSON types (Binary, Timestamp, regex, Code, Symbol, DBRef, Min/MaxKey) through
 * the bson library's own Extended JSON, then checked for strings PostgreSQL cannot hold.
 */
function encodeLeafViaEjson(value: object, path: (string | number)[]): JsonValue {
  let json: JsonValue;
  try {
    json = EJSON.serialize(value, { relaxed: false }) as JsonValue;
  } catch (error) {
    return rejectAt('UNSUPPORTED_VALUE', path, `cannot encode as Extended JSON: ${(error as Error).message}`);
  }
  checkStrings(json, path);
  return json;
}

function checkStrings(json: JsonValue, path: (string | number)[]): void {
  if (typeof json === 'string') {
    checkString(json, path);
    return;
  }
  if (json === null || typeof json !== 'object') return;
  if (Array.isArray(json)) {
    for (const item of json) checkStrings(item as JsonValue, path);
    return;
  }
  for (const [key, child] of Object.entries(json)) {
    checkKey(key, path);
    checkStrings(child, path);
  }
}

/**
 * Ferry's JSON form back to the BSON value it was made from.
 *
 * @example
 * decodeJson({ n: 5, x: 0.5, '~$k': 'x' })   // { n: new Int32(5), x: new Double(0.5), $k: 'x' }
 */
export function decodeJson(json: unknown): unknown {
  if (typeof json === 'number') return jsonNumberToBson(json);
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(decodeJson);
  const record = json as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.some((k) => k.charCodeAt(0) === 0x24)) return decodeWrapper(record);
  const out: Record<string, unknown> = {};
  for (const key of keys) defineKey(out, unescapeKey(key), decodeJson(record[key]));
  return out;
}

function decodeWrapper(record: Record<string, unknown>): unknown {
  const only = (k: string) => typeof record[k] === 'string' && Object.keys(record).length === 1;
  if (only('$numberInt')) return new Int32(Number(record.$numberInt));
  if (only('$numberLong')) return Long.fromBigInt(BigInt(record.$numberLong as string));
  if (only('$numberDouble')) return new Double(Number.parseFloat(record.$numberDouble as string));
  if (only('$numberDecimal')) return decimalFromString(record.$numberDecimal as string);
  const date = record.$date as { $numberLong?: unknown } | undefined;
  if (Object.keys(record).length === 1 && typeof date?.$numberLong === 'string')
    return new Date(Number(date.$numberLong));
  if (only('$oid')) return ObjectId.createFromHexString(record.$oid as string);
  // bson's EJSON reads `$undefined` as null; Ferry keeps the BSON undefined it was made from.
  if (record.$undefined === true && Object.keys(record).length === 1) return undefined;
  return EJSON.deserialize(record, { relaxed: false });
}

/**
 * Set a key on a plain object even when it is `__proto__`: plain assignment would set the
 * prototype instead, and a document may legitimately have a `__proto__` field.
 */
export function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Serialize Ferry's JSON form to the text written to a `jsonb` column. */
export function jsonText(json: JsonValue): string {
  return JSON.stringify(json);
}
