import { Decimal128 } from 'bson';

/**
 * Decimal128 to and from (sign, coefficient, exponent) through its IEEE 754-2008 BID bytes.
 * The bson library's `fromString`/`toString` are exact but slow (they divide 128-bit numbers
 * digit by digit); a backfill converts every money value of every document, so the common
 * finite case goes through `bigint` here, and everything else (NaN, ±Infinity, values that
 * need clamping) falls back to the library.
 */

const EXPONENT_BIAS = 6176;
const MAX_EXPONENT = 6111;
const MIN_EXPONENT = -6176;
const MAX_DIGITS = 34;
const LOW_MASK = (1n << 64n) - 1n;
const COEFFICIENT_HIGH_MASK = (1n << 49n) - 1n;

/** A finite decimal's parts; `coefficient` has at most 34 digits. */
export interface DecimalParts {
  readonly negative: boolean;
  readonly coefficient: bigint;
  readonly exponent: number;
}

/** A finite decimal's parts whose coefficient a double holds exactly (below 2^53). */
export interface SmallDecimalParts {
  negative: boolean;
  coefficient: number;
  exponent: number;
}

/**
 * The parts of the Decimal128 whose 16 BID bytes start at `at`, into `out`, when it is finite
 * and its coefficient is below 2^53 (every amount of money), with plain numbers instead of
 * bigints; false for anything else, which the caller converts the general way. One reader for
 * every fast path that formats or encodes such decimals (their text for `numeric` and for
 * Extended JSON, binary `numeric`); `out` is the caller's, reused, so a value costs no object.
 *
 * @example
 * import { Decimal128 } from 'bson';
 * const out = { negative: false, coefficient: 0, exponent: 0 };
 * readSmallDecimal128(Decimal128.fromString('-1.50').bytes, 0, out)   // true; out is { negative: true, coefficient: 150, exponent: -2 }
 */
export function readSmallDecimal128(bytes: Uint8Array, at: number, out: SmallDecimalParts): boolean {
  const high = readUint32LE(bytes, at + 12);
  // The "11" forms: NaN, ±Infinity and the non-canonical huge coefficients.
  if (((high >>> 29) & 0x3) === 0x3) return false;
  // The coefficient's top bits (below the exponent) and its third word must be zero, and its
  // second below 2^21, for the whole coefficient to be exact as a double.
  const middleLow = readUint32LE(bytes, at + 4);
  if ((high & 0x1ffff) !== 0 || readUint32LE(bytes, at + 8) !== 0 || middleLow >= 0x200000) return false;
  out.negative = high >>> 31 === 1;
  out.coefficient = middleLow * 4294967296 + readUint32LE(bytes, at);
  out.exponent = ((high >>> 17) & 0x3fff) - EXPONENT_BIAS;
  return true;
}

function readUint32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * The parts of a finite Decimal128, or undefined for NaN and ±Infinity.
 *
 * @example
 * import { Decimal128 } from 'bson';
 * decimalParts(Decimal128.fromString('-1.50'))   // { negative: true, coefficient: 150n, exponent: -2 }
 */
export function decimalParts(value: Decimal128): DecimalParts | undefined {
  const bytes = value.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const low = view.getBigUint64(0, true);
  const high = view.getBigUint64(8, true);
  const negative = high >> 63n === 1n;
  const combination = Number((high >> 58n) & 0x1fn);
  if (combination >= 0x1e) return undefined; // 11110 Infinity, 11111 NaN
  if (Number((high >> 61n) & 0x3n) === 0x3) {
    // The "11" form encodes coefficients >= 2^113, all non-canonical: their value is 0.
    const exponent = Number((high >> 47n) & 0x3fffn) - EXPONENT_BIAS;
    return { negative, coefficient: 0n, exponent };
  }
  const exponent = Number((high >> 49n) & 0x3fffn) - EXPONENT_BIAS;
  const coefficient = ((high & COEFFICIENT_HIGH_MASK) << 64n) | low;
  return { negative, coefficient, exponent };
}

/**
 * A Decimal128 from decimal text (`-12.50`, `1.5E+3`, `0.000123`), exactly, or throws. Trailing
 * zeros beyond 34 digits fold into the exponent; a value that still does not fit throws, as
 * `Decimal128.fromString` does.
 *
 * @example
 * decimalFromString('1781.34')   // Decimal128('1781.34')
 */
export function decimalFromString(text: string): Decimal128 {
  const m = /^([-+])?(\d+)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (m === null) return Decimal128.fromString(text);
  const fraction = m[3] ?? '';
  let digits = (m[2]! + fraction).replace(/^0+(?=\d)/, '');
  let exponent = Number(m[4] ?? 0) - fraction.length;
  let end = digits.length;
  while (end > MAX_DIGITS && digits.charCodeAt(end - 1) === 0x30) {
    end--;
    exponent++;
  }
  digits = digits.slice(0, end);
  if (digits.length > MAX_DIGITS || exponent > MAX_EXPONENT || exponent < MIN_EXPONENT)
    return Decimal128.fromString(text); // clamping, or the library's own error
  return decimalFromParts({ negative: m[1] === '-', coefficient: BigInt(digits), exponent });
}

/** Build a Decimal128 from parts that fit (34 digits, exponent in range). */
export function decimalFromParts(parts: DecimalParts): Decimal128 {
  let high = (BigInt(parts.exponent + EXPONENT_BIAS) << 49n) | (parts.coefficient >> 64n);
  if (parts.negative) high |= 1n << 63n;
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeBigUInt64LE(parts.coefficient & LOW_MASK, 0);
  bytes.writeBigUInt64LE(high, 8);
  return new Decimal128(bytes);
}
