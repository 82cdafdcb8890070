import { hash53 } from './hash-sketch.js';

/**
 * Hashes of id values, tagged by kind so the string `"42"` never matches an ObjectId. An
 * ObjectId and a string spelling the same 24 hex digits hash alike on purpose: apps often
 * store references as hex strings, and the report must find those too.
 */

/**
 * Hash an ObjectId by its hex form.
 *
 * @example
 * objectIdHash('59a47286cfa9a3a73e51e72c') === objectIdHash('59A47286CFA9A3A73E51E72C'); // true
 */
export function objectIdHash(hex: string): number {
  return hash53(`o:${hex.toLowerCase()}`);
}

/**
 * Hash a string id.
 *
 * @example
 * stringIdHash('user-1') !== objectIdHash('user-1'); // true
 */
export function stringIdHash(value: string): number {
  return hash53(`s:${value}`);
}

/**
 * The hash of an `_id` value, or undefined for kinds reference detection does not follow
 * (numbers, dates, compound ids).
 *
 * @example
 * import { ObjectId } from 'bson';
 * idHash(new ObjectId()); // a number below 2^53
 */
export function idHash(value: unknown): number | undefined {
  if (typeof value === 'string') return stringIdHash(value);
  if (value !== null && typeof value === 'object') {
    const tagged = value as { _bsontype?: unknown; toHexString?: () => string };
    if ((tagged._bsontype === 'ObjectId' || tagged._bsontype === 'ObjectID') && tagged.toHexString) {
      return objectIdHash(tagged.toHexString());
    }
  }
  return undefined;
}
