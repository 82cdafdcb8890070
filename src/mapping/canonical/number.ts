/**
 * Exact numeric identity for the canonical comparison (DESIGN.md invariant 4).
 *
 * Every number, whatever its BSON type, is reduced to one exact decimal key:
 * `[-]<digits>[e<exponent>]` where `digits` has no leading or trailing zeros, so two numbers
 * are equal exactly when their keys are equal. A double is taken at its exact binary value
 * (0.1 as a double is 0.1000000000000000055511151231257827…, so it is not Decimal128 "0.1");
 * an int64 is taken through `bigint`, never a JS number; a Decimal128 is taken as the decimal
 * it is, trailing zeros ignored ("5.00" = 5).
 *
 * Decisions, chosen to match MongoDB's own query semantics, where the mapping must agree:
 * - NaN equals NaN (every NaN: double, Decimal128, signalling or not). A comparison that never
 *   matches itself would make every document holding NaN a permanent "mismatch".
 * - -0 equals 0 (double and Decimal128). PostgreSQL `numeric` has no negative zero, so keeping
 *   the sign would make a lossless `numeric` column look lossy.
 * - +Infinity equals +Infinity across types, -Infinity likewise; they differ from each other
 *   and from every finite number.
 */

/** The numeric values a document may hold: BSON wrappers, plus plain JS numbers and bigints. */
export type NumericValue =
  | number
  | bigint
  | { readonly _bsontype: 'Int32' | 'Double'; readonly value: number }
  | { readonly _bsontype: 'Long'; toBigInt(): bigint }
  | { readonly _bsontype: 'Decimal128'; readonly bytes: Uint8Array };

/** Keys of the non-finite values; fixed strings that no finite key can collide with. */
export const NAN_KEY = 'NaN';
export const POSITIVE_INFINITY_KEY = 'Infinity';
export const NEGATIVE_INFINITY_KEY = '-Infinity';

/**
 * The exact decimal key of a number, equal for equal values across BSON numeric types.
 *
 * @example
 * import { Decimal128, Int32 } from 'bson';
 * import { Long } from 'bson';
 * numberKey(new Int32(500));                      // '5e2'
 * numberKey(Decimal128.fromString('500.00'));     // '5e2'
 * numberKey(0.5);                                 // '5e-1'
 * numberKey(Long.fromString('9007199254740993')); // '9007199254740993'
 */
export function numberKey(value: NumericValue): string {
  if (typeof value === 'number') return doubleKey(value);
  if (typeof value === 'bigint') return integerKey(value.toString());
  switch (value._bsontype) {
    case 'Int32':
    case 'Double':
      return doubleKey(value.value);
    case 'Long':
      return integerKey(value.toBigInt().toString());
    case 'Decimal128':
      return decimal128Key(value.bytes);
  }
}

/**
 * Whether two numbers are exactly equal. Avoids building keys in the common case of two
 * values that are both JS doubles underneath (Int32, Double, number).
 */
export function numbersEqual(a: NumericValue, b: NumericValue): boolean {
  const x = asDouble(a);
  const y = asDouble(b);
  if (x !== undefined && y !== undefined) return x === y || (Number.isNaN(x) && Number.isNaN(y));
  return numberKey(a) === numberKey(b);
}

function asDouble(value: NumericValue): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return undefined;
  return value._bsontype === 'Int32' || value._bsontype === 'Double' ? value.value : undefined;
}

/** Key of a JS double at its exact binary value. */
export function doubleKey(x: number): string {
  if (x === 0) return '0'; // also -0
  if (Number.isNaN(x)) return NAN_KEY;
  if (x === Number.POSITIVE_INFINITY) return POSITIVE_INFINITY_KEY;
  if (x === Number.NEGATIVE_INFINITY) return NEGATIVE_INFINITY_KEY;
  if (Number.isSafeInteger(x)) return integerKey(String(x));
  // Integers beyond 2^53 are exact in bigint; String(x) would print a rounded exponent form.
  if (Number.isInteger(x)) return integerKey(BigInt(x).toString());
  return fractionKey(x);
}

/** `'-1200'` → `'-12e2'`: strip trailing zeros into the exponent. Input has no leading zeros. */
function integerKey(digits: string): string {
  if (digits === '0') return '0';
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  const zeros = digits.length - end;
  return zeros === 0 ? digits : `${digits.slice(0, end)}e${zeros}`;
}

const scratch = new DataView(new ArrayBuffer(8));
const powersOfFive: bigint[] = [1n];

function powerOfFive(n: number): bigint {
  for (let i = powersOfFive.length; i <= n; i++) powersOfFive.push(powersOfFive[i - 1]! * 5n);
  return powersOfFive[n]!;
}

/**
 * A finite non-integer double is m·2^e with e < 0, which is exactly m·5^(-e)·10^e. With m made
 * odd first, m·5^(-e) is odd, so it has no trailing zero and the key is already normal.
 */
function fractionKey(x: number): string {
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  const lo = scratch.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  // The mantissa fits in 53 bits, so plain number arithmetic stays exact.
  let mantissa = (hi & 0xfffff) * 2 ** 32 + lo;
  let exponent: number;
  if (biased === 0) {
    exponent = -1074; // subnormal
  } else {
    mantissa += 2 ** 52;
    exponent = biased - 1075;
  }
  while (mantissa % 2 === 0) {
    mantissa /= 2;
    exponent += 1;
  }
  const digits = (BigInt(mantissa) * powerOfFive(-exponent)).toString();
  return `${hi >>> 31 ? '-' : ''}${digits}e${exponent}`;
}

/**
 * Key of a Decimal128 read straight from its 16 IEEE 754-2008 BID bytes (little-endian).
 * `Decimal128.toString()` would do, but it is ~5x slower, and every money field of every
 * document goes through here during verification.
 */
export function decimal128Key(bytes: Uint8Array): string {
  const w0 = word(bytes, 0);
  const w1 = word(bytes, 4);
  const w2 = word(bytes, 8);
  const w3 = word(bytes, 12);
  const negative = w3 >>> 31 === 1;
  if (((w3 >>> 29) & 3) === 3) {
    const special = (w3 >>> 26) & 0x1f;
    if (special === 0x1f) return NAN_KEY;
    if (special === 0x1e) return negative ? NEGATIVE_INFINITY_KEY : POSITIVE_INFINITY_KEY;
    // The "11" form implies a coefficient of at least 2^113 > 10^34 - 1: non-canonical, so zero.
    return '0';
  }
  const exponent = ((w3 >>> 17) & 0x3fff) - 6176;
  const top = w3 & 0x1ffff;
  let digits: string;
  if (top === 0 && w2 === 0 && w1 < 0x200000) {
    digits = String(w1 * 2 ** 32 + w0); // below 2^53: exact as a double
  } else {
    const coefficient = (BigInt(top) << 96n) | (BigInt(w2) << 64n) | (BigInt(w1) << 32n) | BigInt(w0);
    if (coefficient > MAX_DECIMAL128_COEFFICIENT) return '0'; // non-canonical encodings mean zero
    digits = coefficient.toString();
  }
  if (digits === '0') return '0';
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  const scaled = exponent + digits.length - end;
  return `${negative ? '-' : ''}${digits.slice(0, end)}${scaled === 0 ? '' : `e${scaled}`}`;
}

const MAX_DECIMAL128_COEFFICIENT = 10n ** 34n - 1n;

function word(bytes: Uint8Array, i: number): number {
  return (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
}

/**
 * Key of a decimal in the textual forms `Decimal128.toString()` produces:
 * `-1.50E+3`, `0.00`, `1E-6176`, `-0`, `NaN`, `Infinity`, `-Infinity`.
 */
export function decimalStringKey(text: string): string {
  let s = text;
  let negative = false;
  if (s.charCodeAt(0) === 45 /* - */) {
    negative = true;
    s = s.slice(1);
  } else if (s.charCodeAt(0) === 43 /* + */) {
    s = s.slice(1);
  }
  if (s === 'NaN' || s === 'sNaN') return NAN_KEY;
  if (s === 'Infinity' || s === 'Inf') return negative ? NEGATIVE_INFINITY_KEY : POSITIVE_INFINITY_KEY;

  let exponent = 0;
  const e = s.search(/[eE]/);
  let mantissa = s;
  if (e >= 0) {
    exponent = Number.parseInt(s.slice(e + 1), 10);
    mantissa = s.slice(0, e);
  }
  const dot = mantissa.indexOf('.');
  if (dot >= 0) {
    exponent -= mantissa.length - dot - 1;
    mantissa = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  }
  if (!/^[0-9]+$/.test(mantissa) || !Number.isFinite(exponent)) {
    throw new TypeError(`not a decimal number: ${JSON.stringify(text)}`);
  }
  let start = 0;
  while (start < mantissa.length && mantissa.charCodeAt(start) === 48) start++;
  if (start === mantissa.length) return '0'; // every zero, whatever its sign or exponent
  let end = mantissa.length;
  while (mantissa.charCodeAt(end - 1) === 48) end--;
  exponent += mantissa.length - end;
  const digits = mantissa.slice(start, end);
  return `${negative ? '-' : ''}${digits}${exponent === 0 ? '' : `e${exponent}`}`;
}
