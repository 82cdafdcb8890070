import type { Document } from 'bson';
import type { IndexSpec } from '../types.js';

/** Fields of a `listIndexes` entry that say nothing about the index itself. */
const DROPPED = new Set(['v', 'ns']);
const KNOWN = new Set(['name', 'key', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds']);

/**
 * One `listIndexes` entry in the project's {@link IndexSpec} shape. The well-known options
 * get their own fields; everything else (weights, default_language, collation, 2dsphere
 * versions, hidden, …) is kept verbatim in `options`, so the schema step can decide what to
 * do with it. The index version `v` and the legacy `ns` are dropped: they describe MongoDB's
 * storage, not the index.
 *
 * @example
 * normalizeIndex({ v: 2, key: { email: 1 }, name: 'email_1', unique: true })
 * // { name: 'email_1', key: { email: 1 }, unique: true }
 */
export function normalizeIndex(raw: Document): IndexSpec {
  const options: Document = {};
  for (const [field, value] of Object.entries(raw)) {
    if (!KNOWN.has(field) && !DROPPED.has(field)) options[field] = value;
  }
  const spec: {
    -readonly [K in keyof IndexSpec]: IndexSpec[K];
  } = { name: String(raw.name), key: normalizeKey(raw.key) };
  // Old servers wrote `unique: 1` or `sparse: 1`; the flag is what matters.
  if (raw.unique !== undefined) spec.unique = Boolean(raw.unique);
  if (raw.sparse !== undefined) spec.sparse = Boolean(raw.sparse);
  if (raw.partialFilterExpression !== undefined) spec.partialFilterExpression = raw.partialFilterExpression;
  if (raw.expireAfterSeconds !== undefined) spec.expireAfterSeconds = Number(raw.expireAfterSeconds);
  if (Object.keys(options).length > 0) spec.options = options;
  return spec;
}

/** Key directions as plain numbers (1, -1) or the index type ('text', '2dsphere', 'hashed'). */
function normalizeKey(key: unknown): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [field, value] of Object.entries((key ?? {}) as Document)) {
    out[field] = typeof value === 'string' ? value : Number(value);
  }
  return out;
}
