import { idIsFirst } from '../sources/bson/recover-id.js';
import { finishHash53, hash53 } from './hash-sketch.js';

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

/** Lower-case hex digits by nibble, as char codes, for hashing an ObjectId's hex form from its bytes. */
const HEX = [...'0123456789abcdef'].map((c) => c.charCodeAt(0));

/**
 * `idHash` of a BSON document's `_id` read from its bytes, without decoding anything: for the
 * `_id` first (where mongod stores it) and an ObjectId or a string, which are the only kinds
 * reference detection follows. `undefined` when the `_id` is not first, or of another kind,
 * or the bytes end early: the caller decodes the document instead. Noting the `_id` of every
 * document past an inference sample decoded each one (a small BSON document per id, then its
 * hex text) and took a quarter of that pass's time.
 *
 * @example
 * import { BSON, ObjectId } from 'bson';
 * const id = new ObjectId();
 * rawIdHash(BSON.serialize({ _id: id, a: 1 })) === idHash(id);   // true
 */
export function rawIdHash(bytes: Uint8Array): number | undefined {
  if (bytes.length < 10 || !idIsFirst(bytes)) return undefined;
  const type = bytes[4];
  if (type === 0x07) return bytes.length >= 9 + 12 + 1 ? objectIdBytesHash(bytes, 9) : undefined;
  if (type !== 0x02 || bytes.length < 13) return undefined;
  const size = bytes[9]! | (bytes[10]! << 8) | (bytes[11]! << 16) | (bytes[12]! << 24);
  const end = 13 + size - 1;
  if (size < 1 || end >= bytes.length || bytes[end] !== 0) return undefined;
  try {
    return stringIdHash(STRICT_UTF8.decode(bytes.subarray(13, end)));
  } catch {
    // Not UTF-8: the document does not decode either, and the caller's decode rejects it.
    return undefined;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `objectIdHash` of the ObjectId whose 12 bytes start at `at`: hash53 of `o:<hex>`, fed char by char. */
function objectIdBytesHash(bytes: Uint8Array, at: number): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const feed = (ch: number) => {
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  };
  feed(0x6f); // o
  feed(0x3a); // :
  for (let i = at; i < at + 12; i++) {
    feed(HEX[bytes[i]! >>> 4]!);
    feed(HEX[bytes[i]! & 15]!);
  }
  return finishHash53(h1, h2);
}
