import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'bson';
import { plainDecimal128 } from './plain-decimal.js';

/**
 * The Extended JSON type wrappers (`{"$oid": …}`, `{"$date": …}`, DBRef …), each checked
 * against the exact shape the Extended JSON specification gives it before it is built. A
 * wrapper key with the wrong value type, a missing or an extra key is an
 * {@link InvalidExtendedJsonError}: the bson library's `EJSON.parse` would quietly build a
 * value from part of it (`{"$oid": "…", "unrelated": true}` becomes a bare ObjectId, losing a
 * key), and a reject is the only outcome that loses nothing. The rules are those of MongoDB's
 * BSON corpus (specifications repository, `source/bson-corpus/tests/*.json`, "parseErrors").
 */

/** Thrown for Extended JSON that the specification calls a parse error. Names the place, never the value. */
export class InvalidExtendedJsonError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path === '' ? 'the document' : `field "${path}"`}: ${problem}`);
    this.name = 'InvalidExtendedJsonError';
  }
}

/** Not a type wrapper: an ordinary document that happens to have `$` keys (`{"$set": …}`). */
export const NOT_A_WRAPPER: unique symbol = Symbol('not a wrapper');

/** How a wrapper's nested values (a `$scope`, a DBRef's `$id` and fields) are revived, by key. */
export type Revive = (value: unknown, key: string) => unknown;

/** The dotted path of the object being revived, built only when an error needs it. */
export type Path = () => string;

/** Options the wrapper builders need from the parser. */
export interface WrapperOptions {
  readonly rejectInvalidDates?: boolean;
}

/** Thrown (with `rejectInvalidDates`) for a `$date` that is not a date. */
export class InvalidDateError extends Error {
  constructor(readonly text: string) {
    super(`$date ${JSON.stringify(text.slice(0, 64))} is not a date JavaScript can read`);
    this.name = 'InvalidDateError';
  }
}

type Json = Record<string, unknown>;

/** bson's own (untyped) Extended JSON builders, so the values are exactly the ones `EJSON.parse` makes. */
type FromExtendedJson = { fromExtendedJSON(doc: unknown, options?: unknown): unknown };
const BINARY = Binary as unknown as FromExtendedJson;
const REGEXP = BSONRegExp as unknown as FromExtendedJson;
const LEGACY = Object.freeze({ legacy: true });

/**
 * The forms the common wrappers' texts must take, shared with the writer that turns them
 * straight into BSON (extended-json-to-bson.ts), so both accept exactly the same texts.
 */
export const INT_TEXT = /^-?\d{1,20}$/;
export const OID_TEXT = /^[0-9a-fA-F]{24}$/;
const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SUBTYPE_TEXT = /^[0-9a-fA-F]{1,2}$/;
export const DOUBLE_TEXT = /^(?:-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|-?Infinity|NaN)$/;
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/**
 * The value a `$`-keyed object stands for, or {@link NOT_A_WRAPPER} when it is a document.
 * `keyCount` is the number of the object's keys (the caller has counted them already).
 *
 * @example
 * declare const revive: Revive;
 * reviveWrapper({ $oid: '59b99db4cfa9a34dcd7885b6' }, 1, () => 'a', revive, {}); // ObjectId
 * reviveWrapper({ $oid: 42 }, 1, () => 'a', revive, {}); // throws
 * reviveWrapper({ $set: 1 }, 1, () => 'a', revive, {}); // NOT_A_WRAPPER
 */
export function reviveWrapper(
  record: Json,
  keyCount: number,
  path: Path,
  revive: Revive,
  options: WrapperOptions,
): unknown {
  const only = (key: string): unknown => {
    if (keyCount !== 1) throw bad(path, `"${key}" must be the only key of its object`);
    return record[key];
  };
  if ('$oid' in record) return new ObjectId(text(only('$oid'), '$oid', path, OID_TEXT));
  if ('$numberInt' in record) {
    const digits = text(only('$numberInt'), '$numberInt', path, INT_TEXT);
    const value = Number(digits);
    if (value < INT32_MIN || value > INT32_MAX) throw bad(path, '"$numberInt" is outside the int32 range');
    return new Int32(digits);
  }
  if ('$numberLong' in record) return long(only('$numberLong'), '$numberLong', path);
  if ('$numberDouble' in record)
    return new Double(Number.parseFloat(text(only('$numberDouble'), '$numberDouble', path, DOUBLE_TEXT)));
  if ('$numberDecimal' in record) {
    const digits = text(only('$numberDecimal'), '$numberDecimal', path);
    return build(path, '"$numberDecimal" is not a decimal', () => Decimal128.fromString(digits));
  }
  if ('$date' in record) return date(only('$date'), path, options);
  if ('$binary' in record || '$type' in record) return binary(record, keyCount, path);
  if ('$uuid' in record) {
    const uuid = text(only('$uuid'), '$uuid', path, UUID_TEXT);
    return BINARY.fromExtendedJSON({ $uuid: uuid });
  }
  if ('$symbol' in record) return new BSONSymbol(text(only('$symbol'), '$symbol', path));
  if ('$timestamp' in record) return timestamp(only('$timestamp'), path);
  if ('$regularExpression' in record) return regularExpression(only('$regularExpression'), path);
  if ('$regex' in record && !isObject(record.$regex)) return legacyRegex(record, keyCount, path);
  if ('$code' in record) return code(record, keyCount, path, revive);
  if ('$minKey' in record) return marker(only('$minKey'), '$minKey', path, new MinKey());
  if ('$maxKey' in record) return marker(only('$maxKey'), '$maxKey', path, new MaxKey());
  if ('$undefined' in record) {
    if (only('$undefined') !== true) throw bad(path, '"$undefined" must be true');
    return undefined;
  }
  if ('$dbPointer' in record) return dbPointer(only('$dbPointer'), path);
  if ('$ref' in record && '$id' in record) return dbRef(record, path, revive);
  return NOT_A_WRAPPER;
}

/**
 * The single-key wrappers that make up nearly all of a mongoexport file, built with no more
 * than the checks their shape needs; everything else (and every error) takes
 * {@link reviveWrapper}. Profiling showed the general dispatch to cost more than the
 * constructors themselves on such files.
 *
 * @example
 * reviveCommonWrapper('$numberInt', '42', { rejectInvalidDates: true }); // new Int32(42)
 */
export function reviveCommonWrapper(key: string, inner: unknown, options: WrapperOptions): unknown {
  if (typeof inner !== 'string') return NOT_A_WRAPPER;
  switch (key) {
    case '$oid':
      return OID_TEXT.test(inner) ? new ObjectId(inner) : NOT_A_WRAPPER;
    case '$numberInt': {
      if (!INT_TEXT.test(inner)) return NOT_A_WRAPPER;
      const value = Number(inner);
      return value < INT32_MIN || value > INT32_MAX ? NOT_A_WRAPPER : new Int32(inner);
    }
    case '$numberDouble':
      return DOUBLE_TEXT.test(inner) ? new Double(Number.parseFloat(inner)) : NOT_A_WRAPPER;
    case '$numberDecimal':
      return plainDecimal128(inner) ?? NOT_A_WRAPPER;
    case '$date': {
      const time = Date.parse(inner);
      if (options.rejectInvalidDates && Number.isNaN(time)) return NOT_A_WRAPPER;
      return new Date(time);
    }
    default:
      return NOT_A_WRAPPER;
  }
}

function bad(path: Path, problem: string): InvalidExtendedJsonError {
  return new InvalidExtendedJsonError(path(), problem);
}

function text(value: unknown, key: string, path: Path, pattern?: RegExp): string {
  if (typeof value !== 'string') throw bad(path, `"${key}" must be a string, found ${kindOf(value)}`);
  if (pattern !== undefined && !pattern.test(value)) throw bad(path, `"${key}" is not in the required form`);
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object's keys are exactly `keys` (any order). */
function hasExactly(value: Json, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(value, k));
}

function build<T>(path: Path, problem: string, make: () => T): T {
  try {
    return make();
  } catch {
    throw bad(path, problem);
  }
}

function long(value: unknown, key: string, path: Path): Long {
  const digits = text(value, key, path, INT_TEXT);
  const big = BigInt(digits);
  if (big < -(2n ** 63n) || big >= 2n ** 63n) throw bad(path, `"${key}" is outside the int64 range`);
  return Long.fromBigInt(big);
}

function date(value: unknown, path: Path, options: WrapperOptions): Date {
  if (typeof value === 'string') {
    const time = Date.parse(value);
    if (options.rejectInvalidDates && Number.isNaN(time)) throw new InvalidDateError(value);
    return new Date(time);
  }
  if (isObject(value) && hasExactly(value, ['$numberLong']))
    return new Date(long(value.$numberLong, '$date.$numberLong', path).toNumber());
  throw bad(path, `"$date" must be an ISO-8601 string or {"$numberLong": "…"}, found ${kindOf(value)}`);
}

/** Canonical `{"$binary": {"base64", "subType"}}`, or the legacy `{"$binary": "…", "$type": "…"}`. */
function binary(record: Json, keyCount: number, path: Path): unknown {
  const inner = record.$binary;
  if (keyCount === 1 && isObject(inner)) {
    if (!hasExactly(inner, ['base64', 'subType']))
      throw bad(path, '"$binary" must hold exactly "base64" and "subType"');
    text(inner.base64, '$binary.base64', path);
    text(inner.subType, '$binary.subType', path, SUBTYPE_TEXT);
    return build(path, '"$binary" is not valid base64', () => BINARY.fromExtendedJSON(record));
  }
  if (!('$binary' in record)) {
    // `{"$type": "string"}` is the $type query operator, a document; a hex subtype without
    // `$binary` is a legacy binary missing its data.
    if (typeof record.$type === 'string' && SUBTYPE_TEXT.test(record.$type))
      throw bad(path, 'legacy "$type" without "$binary"');
    return NOT_A_WRAPPER;
  }
  if (keyCount !== 2 || !('$type' in record))
    throw bad(path, '"$binary" must hold an object, or a string with "$type" as the only other key');
  text(inner, '$binary', path);
  text(record.$type, '$type', path, SUBTYPE_TEXT);
  return build(path, '"$binary" is not valid base64', () => BINARY.fromExtendedJSON(record, LEGACY));
}

function timestamp(value: unknown, path: Path): Timestamp {
  const uint32 = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= UINT32_MAX;
  if (!isObject(value) || !hasExactly(value, ['t', 'i']) || !uint32(value.t) || !uint32(value.i))
    throw bad(path, '"$timestamp" must be {"t": <uint32>, "i": <uint32>}');
  return new Timestamp({ t: value.t as number, i: value.i as number });
}

function regularExpression(value: unknown, path: Path): unknown {
  if (
    !isObject(value) ||
    !hasExactly(value, ['pattern', 'options']) ||
    typeof value.pattern !== 'string' ||
    typeof value.options !== 'string'
  )
    throw bad(path, '"$regularExpression" must be {"pattern": <string>, "options": <string>}');
  const { pattern, options } = value;
  return build(path, '"$regularExpression" has invalid options', () =>
    REGEXP.fromExtendedJSON({ $regularExpression: { pattern, options } }),
  );
}

/** Legacy `{"$regex": "…", "$options": "…"}`. (An object under `$regex` is the query operator: a document.) */
function legacyRegex(record: Json, keyCount: number, path: Path): unknown {
  text(record.$regex, '$regex', path);
  if (keyCount !== 2 || typeof record.$options !== 'string')
    throw bad(path, '"$regex" must come with a string "$options" and nothing else');
  const { $regex, $options } = record as { $regex: string; $options: string };
  return build(path, '"$regex" has invalid options', () => REGEXP.fromExtendedJSON({ $regex, $options }));
}

function code(record: Json, keyCount: number, path: Path, revive: Revive): Code {
  const source = text(record.$code, '$code', path);
  if (keyCount === 1) return new Code(source);
  if (keyCount !== 2 || !('$scope' in record)) throw bad(path, '"$code" may only come with "$scope"');
  if (!isObject(record.$scope))
    throw bad(path, `"$scope" must be a document, found ${kindOf(record.$scope)}`);
  return new Code(source, revive(record.$scope, '$scope') as Json);
}

function marker<T>(value: unknown, key: string, path: Path, made: T): T {
  if (value !== 1) throw bad(path, `"${key}" must be 1`);
  return made;
}

/** BSON DBPointer, which the bson library (and so Ferry) represents as the DBRef it points to. */
function dbPointer(value: unknown, path: Path): DBRef {
  if (!isObject(value) || !hasExactly(value, ['$ref', '$id']))
    throw bad(path, '"$dbPointer" must hold exactly "$ref" and "$id"');
  const ref = text(value.$ref, '$dbPointer.$ref', path);
  const id = value.$id;
  if (!isObject(id) || !hasExactly(id, ['$oid'])) throw bad(path, '"$dbPointer.$id" must be {"$oid": …}');
  return new DBRef(ref, new ObjectId(text(id.$oid, '$oid', path, OID_TEXT)));
}

/**
 * `{"$ref", "$id", "$db"?, …fields}`: a DBRef when its only `$` keys are those three (as the
 * bson library decides), else a document. `$ref` and `$db` must be strings either way.
 */
function dbRef(record: Json, path: Path, revive: Revive): unknown {
  text(record.$ref, '$ref', path);
  if ('$db' in record) text(record.$db, '$db', path);
  const keys = Object.keys(record);
  const isRef = (key: string) => key === '$ref' || key === '$id' || key === '$db';
  if (record.$id === null || keys.some((k) => !isRef(k) && k.charCodeAt(0) === 0x24)) return NOT_A_WRAPPER;
  const fields: Json = {};
  for (const key of keys) {
    if (isRef(key)) continue;
    // An own "__proto__" field is data; plain assignment would set the prototype instead.
    Object.defineProperty(fields, key, {
      value: revive(record[key], key),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const id = revive(record.$id, '$id');
  return new DBRef(record.$ref as string, id as ObjectId, record.$db as string | undefined, fields);
}
