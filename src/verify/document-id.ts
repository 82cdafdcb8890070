import { EJSON } from 'bson';
import { canonicalHash } from '../mapping/canonical/index.js';

/**
 * The identity of a document for verification: the canonical hash of its `_id`, so an
 * Int32 id 5 and a Double id 5.0 are the same document, as they are under the comparison.
 *
 * @example
 * import { ObjectId } from 'bson';
 * idHash(new ObjectId('5bd761dcae323e45a93ccfe8'))   // 0x…n, the same on both sides
 */
export function idHash(id: unknown): bigint {
  return canonicalHash(id);
}

/**
 * An `_id` as people type it in a shell or search for in a report: an ObjectId's hex, a
 * string as is, anything else as relaxed Extended JSON.
 *
 * @example
 * import { Int32, ObjectId } from 'bson';
 * idText(new ObjectId('5bd761dcae323e45a93ccfe8'))   // '5bd761dcae323e45a93ccfe8'
 * idText(new Int32(7))                               // '7'
 */
export function idText(id: unknown): string {
  if (typeof id === 'string') return id;
  if (id !== null && typeof id === 'object' && (id as { _bsontype?: string })._bsontype === 'ObjectId')
    return (id as { toHexString(): string }).toHexString();
  return valueText(id);
}

/**
 * A value as relaxed Extended JSON, for a report shown with `--show-values`.
 *
 * @example
 * import { Decimal128 } from 'bson';
 * valueText(Decimal128.fromString('9.99'))   // '{"$numberDecimal":"9.99"}'
 */
export function valueText(value: unknown): string {
  if (value === undefined) return '(missing)';
  try {
    return EJSON.stringify(value as never, { relaxed: true });
  } catch {
    return String(value);
  }
}
