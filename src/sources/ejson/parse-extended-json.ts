import { Double, Int32, Long } from 'bson';
import {
  InvalidExtendedJsonError,
  NOT_A_WRAPPER,
  reviveCommonWrapper,
  reviveWrapper,
} from './extended-json-wrappers.js';

export { InvalidDateError, InvalidExtendedJsonError } from './extended-json-wrappers.js';

/**
 * Extended JSON, strictly: `JSON.parse` (native, ~5x faster than `EJSON.parse`, whose reviver
 * callback crosses into JS for every value) followed by one in-place walk that builds the
 * BSON values with the same constructors `bson` uses, so classes, values and key order match
 * `EJSON.parse(text, { relaxed: false })` for valid input. Unlike `EJSON.parse`, every type
 * wrapper is checked against the exact shape the specification gives it (see
 * extended-json-wrappers.ts): what MongoDB's BSON corpus lists as a parse error throws
 * {@link InvalidExtendedJsonError} instead of loading part of the value. And
 * `{"$undefined": true}` gives BSON undefined (`undefined` under its key), not `null`.
 */

/** Options of {@link parseExtendedJson}. */
export interface ExtendedJsonParseOptions {
  /**
   * Throw {@link UnsafeIntegerError} for an integer beyond ±2^53 that is not a `$numberLong`:
   * `JSON.parse` has already rounded it, so the value may not be what the file says.
   * `EJSON.parse` silently keeps the rounded value. Default `false`.
   */
  readonly rejectUnsafeIntegers?: boolean;
  /**
   * Throw `InvalidDateError` for a `$date` string `Date.parse` cannot read.
   * `EJSON.parse` returns an Invalid Date, which would load as garbage or fail far from
   * its cause. Default `false`.
   */
  readonly rejectInvalidDates?: boolean;
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

/**
 * Parse one Extended JSON text (canonical or relaxed v2, and the legacy `$binary`/`$type` and
 * `$regex`/`$options` forms) into a document whose numbers stay wrapped, as
 * `EJSON.parse(text, { relaxed: false })` would, but refusing every malformed type wrapper.
 *
 * @example
 * parseExtendedJson('{"_id":{"$oid":"59b99db4cfa9a34dcd7885b6"},"n":1}');
 * // → { _id: new ObjectId('59b9…'), n: new Int32(1) }
 * parseExtendedJson('{"a":{"$oid":"59b99db4cfa9a34dcd7885b6","x":1}}'); // throws InvalidExtendedJsonError
 */
export function parseExtendedJson(text: string, options: ExtendedJsonParseOptions = {}): unknown {
  const value: unknown = JSON.parse(text);
  // The walk is synchronous and calls no user code, so one module-level state serves every call.
  current = options;
  stack.length = 0;
  try {
    return reviveValue(value);
  } finally {
    current = NO_OPTIONS;
    stack.length = 0;
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

/**
 * The walk's state. The path to the current value is a stack of keys, joined only when an
 * error names it: a path string per value would cost more than the rest of the walk. Plain
 * functions, not closures per call: allocating them per document showed up in profiles.
 */
const NO_OPTIONS: ExtendedJsonParseOptions = Object.freeze({});
let current: ExtendedJsonParseOptions = NO_OPTIONS;
const stack: string[] = [];

function path(): string {
  return stack.join('.');
}

function revive(value: unknown, key: string): unknown {
  stack.push(key);
  const revived = reviveValue(value);
  stack.pop();
  return revived;
}

function reviveValue(value: unknown): unknown {
  if (typeof value === 'number') return jsonNumberToBson(value, current.rejectUnsafeIntegers);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'number') value[i] = jsonNumberToBson(item, current.rejectUnsafeIntegers);
      else if (typeof item === 'object' && item !== null) value[i] = revive(item, String(i));
    }
    return value;
  }
  return reviveObject(value as Record<string, unknown>);
}

function reviveObject(record: Record<string, unknown>): unknown {
  let keyCount = 0;
  let dollarKey: string | undefined;
  // for…in over a JSON.parse result sees exactly its own keys, in order.
  for (const key in record) {
    keyCount++;
    if (key.charCodeAt(0) === DOLLAR) dollarKey ??= key;
    else if (key.includes('\u0000'))
      throw new InvalidExtendedJsonError(path(), 'a key contains null bytes, which BSON cannot hold');
  }
  if (dollarKey !== undefined) {
    const common =
      keyCount === 1 ? reviveCommonWrapper(dollarKey, record[dollarKey], current) : NOT_A_WRAPPER;
    if (common !== NOT_A_WRAPPER) return common;
    const built = reviveWrapper(record, keyCount, path, revive, current);
    if (built !== NOT_A_WRAPPER) return built;
  }
  // Assigning to an existing own key (even "__proto__", which JSON.parse makes an own data
  // property) keeps the order and never touches the prototype.
  for (const key in record) {
    if (dollarKey !== undefined && key.includes('\u0000'))
      throw new InvalidExtendedJsonError(path(), 'a key contains null bytes, which BSON cannot hold');
    const item = record[key];
    if (typeof item === 'number') record[key] = jsonNumberToBson(item, current.rejectUnsafeIntegers);
    else if (typeof item === 'object' && item !== null) record[key] = revive(item, key);
  }
  return record;
}
