import { Decimal128 } from 'bson';

/**
 * A document as FerretDB v1.24 can store it: every Decimal128 (which it refuses, dropping the
 * connection) replaced by its exact decimal string, everything else as it was. Comparisons
 * between a live leg and a file leg apply it to both sides, so all else is still compared exactly.
 *
 * @example
 * decimalsAsStrings({ price: Decimal128.fromString('1.50') }) // { price: '1.50' }
 */
export function decimalsAsStrings(value: unknown): unknown {
  if (value instanceof Decimal128) return value.toString();
  if (Array.isArray(value)) return value.map(decimalsAsStrings);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decimalsAsStrings(v)]));
  }
  return value;
}
