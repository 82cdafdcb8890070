import { Decimal128 } from 'bson';
import { readSmallDecimal128, type SmallDecimalParts } from './decimal-parts.js';

/**
 * The text `Decimal128.toString()` gives for the 16 bytes at `at`, without building a
 * Decimal128: bson's toString divides the 128-bit coefficient nine digits at a time, which
 * was a tenth of the Extended JSON export's walk. A finite value whose coefficient fits in a
 * double exactly (below 2^53: every price, every amount a `numeric` column held) is formatted
 * here, by the same rules (IEEE 754-2008 to-scientific-string, as bson applies them); anything
 * else goes to bson.
 *
 * @example
 * import { Decimal128 } from 'bson';
 * decimal128Text(Decimal128.fromString('1234.5600').bytes, 0);  // '1234.5600'
 */
export function decimal128Text(bytes: Uint8Array, at: number): string {
  if (!readSmallDecimal128(bytes, at, SMALL)) return new Decimal128(bytes.slice(at, at + 16)).toString();
  const exponent = SMALL.exponent;
  const digits = String(SMALL.coefficient);
  const sign = SMALL.negative ? '-' : '';
  const scientific = digits.length - 1 + exponent;
  if (scientific >= 34 || scientific <= -7 || exponent > 0) {
    const point = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${point}E${scientific > 0 ? '+' : ''}${scientific}`;
  }
  if (exponent === 0) return sign + digits;
  const radix = digits.length + exponent;
  if (radix > 0) return `${sign}${digits.slice(0, radix)}.${digits.slice(radix)}`;
  return `${sign}0.${'0'.repeat(-radix)}${digits}`;
}

const SMALL: SmallDecimalParts = { negative: false, coefficient: 0, exponent: 0 };
