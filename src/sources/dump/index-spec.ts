import { type Document, Double, Int32 } from 'bson';
import type { IndexSpec } from '../types.js';

/** Fields `IndexSpec` names; everything else an index document has goes into `options`. */
const NAMED = new Set(['key', 'name', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds']);

/**
 * A number as mongodump writes it in canonical Extended JSON (`{"$numberInt":"1"}`), parsed
 * with `relaxed: false` into a wrapper, as a plain JS number. Index directions and TTLs are
 * small, so nothing is lost.
 */
function plainNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'toString' in value) {
    const bsontype = (value as { _bsontype?: string })._bsontype;
    if (bsontype === 'Int32' || bsontype === 'Double' || bsontype === 'Long' || bsontype === 'Decimal128') {
      return Number(String(value));
    }
  }
  return undefined;
}

/**
 * Turn one index document from a dump's metadata (or `listIndexes`) into an `IndexSpec`:
 * key directions and the TTL become plain numbers, `unique`/`sparse` booleans (old servers
 * wrote `unique: 1`), and the partial filter keeps its BSON types. Returns `undefined` for
 * something that is not an index (no name or no key).
 *
 * @example
 * import { Int32 } from 'bson';
 * indexFromMongo({ v: new Int32(2), key: { email: new Int32(1) }, name: 'email_1', unique: true });
 * // { name: 'email_1', key: { email: 1 }, unique: true, options: { v: Int32(2) } }
 */
export function indexFromMongo(raw: Document): IndexSpec | undefined {
  if (typeof raw.name !== 'string' || raw.key === null || typeof raw.key !== 'object') return undefined;
  const key: Record<string, number | string> = {};
  for (const [field, direction] of Object.entries(raw.key as Document)) {
    key[field] = typeof direction === 'string' ? direction : (plainNumber(direction) ?? String(direction));
  }
  const options: Document = {};
  for (const [field, value] of Object.entries(raw)) if (!NAMED.has(field)) options[field] = value;
  const ttl = plainNumber(raw.expireAfterSeconds);
  return {
    name: raw.name,
    key,
    ...(raw.unique !== undefined && { unique: Boolean(plainNumber(raw.unique) ?? raw.unique) }),
    ...(raw.sparse !== undefined && { sparse: Boolean(plainNumber(raw.sparse) ?? raw.sparse) }),
    ...(raw.partialFilterExpression !== undefined && {
      partialFilterExpression: raw.partialFilterExpression as Document,
    }),
    ...(ttl !== undefined && { expireAfterSeconds: ttl }),
    ...(Object.keys(options).length > 0 && { options }),
  };
}

/**
 * The inverse of `indexFromMongo`, for our writers: the document mongodump itself would
 * write (`v: 2` unless the spec's options say otherwise; integer directions as Int32).
 *
 * @example
 * indexToMongo({ name: 'email_1', key: { email: 1 }, unique: true });
 * // { v: Int32(2), key: { email: Int32(1) }, name: 'email_1', unique: true }
 */
export function indexToMongo(spec: IndexSpec): Document {
  const key: Document = {};
  for (const [field, direction] of Object.entries(spec.key)) {
    key[field] = typeof direction === 'string' ? direction : wrapNumber(direction);
  }
  const { v, ...rest } = spec.options ?? {};
  return {
    v: v ?? new Int32(2),
    key,
    name: spec.name,
    ...(spec.unique !== undefined && { unique: spec.unique }),
    ...(spec.sparse !== undefined && { sparse: spec.sparse }),
    ...(spec.partialFilterExpression !== undefined && {
      partialFilterExpression: spec.partialFilterExpression,
    }),
    ...(spec.expireAfterSeconds !== undefined && { expireAfterSeconds: wrapNumber(spec.expireAfterSeconds) }),
    ...rest,
  };
}

function wrapNumber(value: number): Int32 | Double {
  return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? new Int32(value) : new Double(value);
}
