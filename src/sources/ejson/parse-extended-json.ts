import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Decimal128,
  Double,
  EJSON,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'bson';

/**
 * The fast path for Extended JSON: `JSON.parse` (native, ~5x faster than `EJSON.parse`,
 * whose reviver callback crosses into JS for every value) followed by one in-place walk
 * that replays `EJSON.parse`'s own dispatch bottom-up. The type wrappers are built by the
 * very same `fromExtendedJSON` functions `bson` uses, so classes and values match; the
 * walk mutates values in place, so key order matches. Shapes we do not replay
 * (`$code`, DBRef, `$dbPointer`, keys with NUL) and anything that throws on the way go to
 * the real `EJSON.parse`, so correctness never depends on the fast path covering a shape.
 */

/** Options of {@link parseExtendedJson}. The defaults give exact `EJSON.parse(text, { relaxed: false })` behaviour. */
export interface ExtendedJsonParseOptions {
  /**
   * Also accept two legacy (v1) shapes mongoexport and older tools wrote, which
   * `EJSON.parse` rejects in canonical mode: `{"$binary": "<base64>", "$type": "<hex>"}`
   * and `{"$date": <milliseconds>}` with a small or fractional number. Default `false`.
   */
  readonly legacyShapes?: boolean;
  /**
   * Throw {@link UnsafeIntegerError} for an integer beyond ±2^53 that is not a `$numberLong`:
   * `JSON.parse` has already rounded it, so the value may not be what the file says.
   * `EJSON.parse` silently keeps the rounded value. Default `false`.
   */
  readonly rejectUnsafeIntegers?: boolean;
  /**
   * Throw {@link InvalidDateError} for a `$date` string `Date.parse` cannot read.
   * `EJSON.parse` returns an Invalid Date, which would load as garbage or fail far from
   * its cause. Default `false`.
   */
  readonly rejectInvalidDates?: boolean;
}

/** Thrown (with `rejectInvalidDates`) for a `$date` that is not a date. */
export class InvalidDateError extends Error {
  constructor(readonly text: string) {
    super(`$date ${JSON.stringify(text.slice(0, 64))} is not a date JavaScript can read`);
    this.name = 'InvalidDateError';
  }
}

/** Thrown (with `rejectUnsafeIntegers`) for a plain JSON integer that a double cannot hold exactly. */
export class UnsafeIntegerError extends Error {
  constructor(readonly value: number) {
    super(
      `integer ${value} is beyond ±2^53 and was rounded by the JSON parser; write it as {"$numberLong": "…"} or as a string`,
    );
    this.name = 'UnsafeIntegerError';
  }
}

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
// The same (rounded) bounds bson uses; 2^63 - 1 is 2^63 as a double.
const INT64_MAX = 2 ** 63 - 1;
const INT64_MIN = -(2 ** 63);
const DOLLAR = 36;

// Exactly what bson hands to every codec in canonical mode.
const CANONICAL = Object.freeze({ useBigInt64: false, relaxed: false, legacy: false });
const LEGACY = Object.freeze({ useBigInt64: false, relaxed: false, legacy: true });

type Codec = { fromExtendedJSON(doc: never, options?: unknown): unknown };
// Same table and order of preference as bson's `keysToCodecs`.
const CODECS = new Map<string, Codec>([
  ['$oid', ObjectId as unknown as Codec],
  ['$binary', Binary as unknown as Codec],
  ['$uuid', Binary as unknown as Codec],
  ['$symbol', BSONSymbol as unknown as Codec],
  ['$numberInt', Int32 as unknown as Codec],
  ['$numberDecimal', Decimal128 as unknown as Codec],
  ['$numberDouble', Double as unknown as Codec],
  ['$numberLong', Long as unknown as Codec],
  ['$minKey', MinKey as unknown as Codec],
  ['$maxKey', MaxKey as unknown as Codec],
  ['$regex', BSONRegExp as unknown as Codec],
  ['$regularExpression', BSONRegExp as unknown as Codec],
  ['$timestamp', Timestamp as unknown as Codec],
]);

/** Internal signal: this value needs the real EJSON. Never escapes this module. */
class NeedsSlowPath {}
const NEEDS_SLOW_PATH = new NeedsSlowPath();

/**
 * Parse one Extended JSON text (canonical or relaxed v2, and the legacy v1 forms) into a
 * document whose numbers stay wrapped, exactly as `EJSON.parse(text, { relaxed: false })`.
 *
 * @example
 * parseExtendedJson('{"_id":{"$oid":"59b99db4cfa9a34dcd7885b6"},"n":1}');
 * // → { _id: new ObjectId('59b9…'), n: new Int32(1) }
 */
export function parseExtendedJson(text: string, options: ExtendedJsonParseOptions = {}): unknown {
  // NUL can only enter a key through a \u0000 escape; bson rejects such keys with its own
  // error, so let it. (A false positive inside a value just takes the slow path.)
  if (text.includes('\\u0000')) return EJSON.parse(text, { relaxed: false });
  const value: unknown = JSON.parse(text);
  try {
    return reviveValue(value, options);
  } catch (error) {
    if (error instanceof UnsafeIntegerError || error instanceof InvalidDateError) throw error;
    // Either a shape we leave to bson, or input bson will reject with its own message.
    return EJSON.parse(text, { relaxed: false });
  }
}

/**
 * Convert a plain JSON number the way canonical `EJSON.parse` does: integers in int32
 * range → `Int32`, other integers in int64 range → `Long`, everything else (fractions,
 * `-0`, huge values) → `Double`.
 *
 * @example
 * jsonNumberToBson(5);   // new Int32(5)
 * jsonNumberToBson(2**40); // new Long(…)
 * jsonNumberToBson(0.5); // new Double(0.5)
 */
export function jsonNumberToBson(value: number, rejectUnsafe = false): Int32 | Long | Double {
  if (Number.isInteger(value) && !Object.is(value, -0)) {
    if (value <= INT32_MAX && value >= INT32_MIN) return new Int32(value);
    if (value <= INT64_MAX && value >= INT64_MIN) {
      if (rejectUnsafe && !Number.isSafeInteger(value)) throw new UnsafeIntegerError(value);
      return Long.fromNumber(value);
    }
  }
  return new Double(value);
}

function reviveValue(value: unknown, options: ExtendedJsonParseOptions): unknown {
  if (typeof value === 'number') return jsonNumberToBson(value, options.rejectUnsafeIntegers);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' ? item !== null : typeof item === 'number') {
        value[i] = reviveValue(item, options);
      }
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  let keyCount = 0;
  let dollarKey: string | undefined;
  // for…in over a JSON.parse result sees exactly its own keys, in order. Assigning to an
  // existing own key (even "__proto__", which JSON.parse makes an own data property) keeps
  // the order and never touches the prototype.
  for (const key in record) {
    const item = record[key];
    if (typeof item === 'object' ? item !== null : typeof item === 'number') {
      record[key] = reviveValue(item, options);
    }
    keyCount++;
    if (dollarKey === undefined && key.charCodeAt(0) === DOLLAR) dollarKey = key;
  }
  if (dollarKey === undefined) return record;
  return (
    (keyCount === 1 && reviveSingleKeyWrapper(dollarKey, record[dollarKey], options)) ||
    reviveWrapper(record, options)
  );
}

/**
 * The wrappers that make up nearly all of a mongoexport file, built directly: the same
 * constructor calls their `fromExtendedJSON` makes, minus the generic dispatch, which
 * profiling showed to cost more than the constructors. `undefined` means "not one of these".
 */
function reviveSingleKeyWrapper(
  key: string,
  inner: unknown,
  options: ExtendedJsonParseOptions,
): object | undefined {
  if (typeof inner !== 'string') return undefined;
  switch (key) {
    case '$oid':
      return new ObjectId(inner);
    case '$numberInt':
      return new Int32(inner);
    case '$numberDouble':
      return new Double(Number.parseFloat(inner));
    case '$date':
      return parseDate(inner, options);
    default:
      return undefined;
  }
}

/** bson's `deserializeValue` for an object with `$` keys, children already revived. */
function reviveWrapper(value: Record<string, unknown>, options: ExtendedJsonParseOptions): unknown {
  if (value.$undefined) return null;
  for (const key in value) {
    if (key.charCodeAt(0) !== DOLLAR || value[key] == null) continue;
    const codec = CODECS.get(key);
    if (codec === undefined) continue;
    if (options.legacyShapes && key === '$binary' && typeof value.$binary === 'string' && '$type' in value) {
      return codec.fromExtendedJSON(value as never, LEGACY);
    }
    return codec.fromExtendedJSON(value as never, CANONICAL);
  }
  if (value.$date != null) return reviveDate(value.$date, options);
  if (value.$code != null || '$ref' in value || '$id' in value || value.$dbPointer != null) {
    throw NEEDS_SLOW_PATH;
  }
  return value;
}

function parseDate(text: string, options: ExtendedJsonParseOptions): Date {
  const time = Date.parse(text);
  if (options.rejectInvalidDates && Number.isNaN(time)) throw new InvalidDateError(text);
  return new Date(time);
}

function reviveDate(d: unknown, options: ExtendedJsonParseOptions): Date {
  if (typeof d === 'string') return parseDate(d, options);
  if (Long.isLong(d)) return new Date(d.toNumber());
  if (options.legacyShapes && (d instanceof Int32 || d instanceof Double)) return new Date(d.value);
  throw NEEDS_SLOW_PATH;
}
