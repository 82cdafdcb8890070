import { Decimal128 } from 'bson';

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
  const low = readUint32(bytes, at);
  const midLow = readUint32(bytes, at + 4);
  const midHigh = readUint32(bytes, at + 8);
  const high = readUint32(bytes, at + 12);
  // Bits 61-62 of the high word set: infinity, NaN, or the other coefficient form. The
  // coefficient's top bits (below the exponent) and its third word must be zero, and its
  // second below 2^21, for the whole coefficient to be exact as a double.
  if ((high & 0x60000000) === 0x60000000 || (high & 0x1ffff) !== 0 || midHigh !== 0 || midLow >= 2 ** 21)
    return new Decimal128(bytes.slice(at, at + 16)).toString();
  const exponent = ((high >>> 17) & 0x3fff) - EXPONENT_BIAS;
  const digits = String(midLow * 2 ** 32 + low);
  const sign = high >>> 31 === 1 ? '-' : '';
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

const EXPONENT_BIAS = 6176;

function readUint32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}
