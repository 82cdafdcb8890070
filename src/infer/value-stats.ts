import { compareDecimal, type DecimalShape, decimalShape } from './decimal-shape.js';

/**
 * Mergeable accumulators for scalar values at one path. Each has `observe` for one value and
 * `merge` for folding in another accumulator (used when map values are merged into `*`).
 * All state is O(1) per path.
 */

/** String lengths and the values PostgreSQL cannot store as text. */
export class StringStats {
  count = 0;
  /** In code points, as PostgreSQL counts `varchar(n)`. */
  minLength = Number.POSITIVE_INFINITY;
  maxLength = 0;
  maxBytes = 0;
  /** Strings containing U+0000: PostgreSQL text cannot hold them. */
  withNul = 0;
  /** Strings with an unpaired surrogate: not valid UTF-8, would be altered on the way in. */
  malformed = 0;
  /** Strings spelling an ObjectId (24 hex digits) or a UUID: ids stored as text. */
  objectIdHex = 0;
  uuid = 0;

  observe(value: string): void {
    this.count++;
    const length = codePoints(value);
    if (length < this.minLength) this.minLength = length;
    if (length > this.maxLength) this.maxLength = length;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > this.maxBytes) this.maxBytes = bytes;
    if (value.includes('\u0000')) this.withNul++;
    if (LONE_SURROGATE.test(value)) this.malformed++;
    if (value.length === 24 && OBJECT_ID_HEX.test(value)) this.objectIdHex++;
    else if (value.length === 36 && UUID_TEXT.test(value)) this.uuid++;
  }

  merge(other: StringStats): void {
    this.count += other.count;
    this.minLength = Math.min(this.minLength, other.minLength);
    this.maxLength = Math.max(this.maxLength, other.maxLength);
    this.maxBytes = Math.max(this.maxBytes, other.maxBytes);
    this.withNul += other.withNul;
    this.malformed += other.malformed;
    this.objectIdHex += other.objectIdHex;
    this.uuid += other.uuid;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const HIGH_SURROGATE = /[\uD800-\uDBFF]/;
/** Exported for the reference sketches, which must agree on what spells an ObjectId. */
export const OBJECT_ID_HEX = /^[0-9a-fA-F]{24}$/;
const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function codePoints(value: string): number {
  // Most strings have no astral characters; only those pay for iteration.
  if (!HIGH_SURROGATE.test(value)) return value.length;
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/**
 * Every numeric value (int, long, double, decimal) on one exact decimal scale, so the
 * mapping can pick the narrowest exact column: range, integrality, digits.
 */
export class NumberStats {
  count = 0;
  min: DecimalShape | undefined;
  max: DecimalShape | undefined;
  /** Values with a fractional part. */
  nonIntegral = 0;
  /** NaN and ±Infinity (double or Decimal128): `numeric` holds NaN but not infinities before PG 14. */
  nonFinite = 0;
  /** Largest precision/scale among doubles' shortest round-trip text. */
  doublePrecision = 0;
  doubleScale = 0;
  /** Largest precision/scale among Decimal128 values (trailing zeros kept, as Decimal128 does). */
  decimalPrecision = 0;
  decimalScale = 0;

  /** `kind` says where the text came from, so digits are attributed to the right type. */
  observe(text: string, kind: 'integer' | 'double' | 'decimal'): void {
    this.count++;
    const shape = decimalShape(text);
    if (!shape) {
      this.nonFinite++;
      return;
    }
    if (!this.min || compareDecimal(shape, this.min) < 0) this.min = shape;
    if (!this.max || compareDecimal(shape, this.max) > 0) this.max = shape;
    if (!isIntegral(shape)) this.nonIntegral++;
    if (kind === 'double') {
      this.doublePrecision = Math.max(this.doublePrecision, shape.precision);
      this.doubleScale = Math.max(this.doubleScale, shape.scale);
    } else if (kind === 'decimal') {
      this.decimalPrecision = Math.max(this.decimalPrecision, shape.precision);
      this.decimalScale = Math.max(this.decimalScale, shape.scale);
    }
  }

  merge(other: NumberStats): void {
    this.count += other.count;
    if (other.min && (!this.min || compareDecimal(other.min, this.min) < 0)) this.min = other.min;
    if (other.max && (!this.max || compareDecimal(other.max, this.max) > 0)) this.max = other.max;
    this.nonIntegral += other.nonIntegral;
    this.nonFinite += other.nonFinite;
    this.doublePrecision = Math.max(this.doublePrecision, other.doublePrecision);
    this.doubleScale = Math.max(this.doubleScale, other.doubleScale);
    this.decimalPrecision = Math.max(this.decimalPrecision, other.decimalPrecision);
    this.decimalScale = Math.max(this.decimalScale, other.decimalScale);
  }
}

/** True when the value has no fractional part (`1.50E+1` is 15, integral). */
export function isIntegral(shape: DecimalShape): boolean {
  if (shape.exponent >= 0 || shape.coefficient === '0') return true;
  const trailingZeros = shape.coefficient.length - shape.coefficient.replace(/0+$/, '').length;
  return shape.exponent + trailingZeros >= 0;
}

/**
 * PostgreSQL's timestamptz range in JS milliseconds: from 4714-11-24 BC (Julian day 0) up;
 * its upper bound (294276 AD) is beyond any valid JS Date, so only the low end can be crossed.
 */
export const PG_TIMESTAMP_MIN_MS = Date.UTC(-4713, 10, 24);

/** Date range and the dates PostgreSQL would refuse. */
export class DateStats {
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  /** Dates before PostgreSQL's minimum: the mapping rejects them, never shifts them. */
  outsidePostgres = 0;
  /** Dates a reader could not represent (`Invalid Date`, beyond ±8.64e15 ms). */
  invalid = 0;

  observe(value: Date): void {
    this.count++;
    const ms = value.getTime();
    if (Number.isNaN(ms)) {
      this.invalid++;
      return;
    }
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    if (ms < PG_TIMESTAMP_MIN_MS) this.outsidePostgres++;
  }

  merge(other: DateStats): void {
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.outsidePostgres += other.outsidePostgres;
    this.invalid += other.invalid;
  }
}

/** Binary subtypes (4 is a UUID, 0 generic) and sizes. */
export class BinaryStats {
  count = 0;
  readonly subtypes = new Map<number, number>();
  minLength = Number.POSITIVE_INFINITY;
  maxLength = 0;

  observe(subtype: number, length: number): void {
    this.count++;
    this.subtypes.set(subtype, (this.subtypes.get(subtype) ?? 0) + 1);
    if (length < this.minLength) this.minLength = length;
    if (length > this.maxLength) this.maxLength = length;
  }

  merge(other: BinaryStats): void {
    this.count += other.count;
    for (const [subtype, n] of other.subtypes)
      this.subtypes.set(subtype, (this.subtypes.get(subtype) ?? 0) + n);
    this.minLength = Math.min(this.minLength, other.minLength);
    this.maxLength = Math.max(this.maxLength, other.maxLength);
  }
}
