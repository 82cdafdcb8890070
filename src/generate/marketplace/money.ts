import { Decimal128 } from 'bson';
import type { Random } from '../random.js';

/** Currencies the marketplace settles in, weighted by how often buyers use them. */
export const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'USD', 'GBP', 'CHF', 'PLN', 'JPY'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Minor units per currency: JPY has none, which is where naive `numeric(…, 2)` mappings break. */
export function minorUnits(currency: string): number {
  return currency === 'JPY' ? 0 : 2;
}

/**
 * A Decimal128 of `minor` minor units (cents) in `currency`, built from its bytes rather than
 * parsed from a string: `Decimal128.fromString` dominated generation time in a profile, and a
 * coefficient with a fixed exponent is trivial to encode (IEEE 754-2008 BID, exponent bias 6176).
 * The exponent is kept (`12.50` stays `12.50`), as an app writing `Decimal128("12.50")` would.
 *
 * @example
 * decimalFromMinor(1250, 'EUR').toString(); // '12.50'
 * decimalFromMinor(-700, 'JPY').toString(); // '-700'
 */
export function decimalFromMinor(minor: number, currency: string): Decimal128 {
  const magnitude = Math.abs(minor);
  // |minor| stays far below 2^53 here, so the split into two 32-bit words is exact.
  const low = magnitude >>> 0;
  const mid = Math.floor(magnitude / 2 ** 32);
  const high = ((6176 - minorUnits(currency)) << 17) | (minor < 0 ? 0x80000000 : 0);
  const bytes = new Uint8Array(16);
  bytes[0] = low;
  bytes[1] = low >>> 8;
  bytes[2] = low >>> 16;
  bytes[3] = low >>> 24;
  bytes[4] = mid;
  bytes[5] = mid >>> 8;
  bytes[6] = mid >>> 16;
  bytes[7] = mid >>> 24;
  bytes[12] = high;
  bytes[13] = high >>> 8;
  bytes[14] = high >>> 16;
  bytes[15] = high >>> 24;
  return new Decimal128(bytes);
}

/**
 * A price in minor units: log-uniform between 1 and 5000 major units, rounded like a human
 * would price things (x.00, x.50, x.99) most of the time.
 *
 * @example
 * declare const rng: Random;
 * const unit = priceMinor(rng, 'EUR'); // e.g. 4999 (49.99 EUR)
 */
export function priceMinor(rng: Random, currency: string): number {
  const major = Math.max(1, Math.floor(Math.exp(rng.float() * Math.log(5000))));
  if (minorUnits(currency) === 0) return major * 100;
  const cents = rng.pick([0, 0, 50, 99, 95, rng.int(0, 99)]);
  return major * 100 + cents;
}
