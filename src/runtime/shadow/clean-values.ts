import { type Document, EJSON } from 'bson';

/**
 * How much of a differing value is kept in `ferry.shadow_mismatches`.
 *
 * @example
 * const limits: CleanLimits = { maxStringLength: 200, maxArrayLength: 20 };
 */
export interface CleanLimits {
  /** Longer strings are cut to this many characters, with a note of their length. */
  readonly maxStringLength: number;
  /** Longer arrays keep this many elements, with a note of how many there were. */
  readonly maxArrayLength: number;
}

/**
 * The values of a mismatch as they are stored: each differing path's value in canonical
 * Extended JSON (so an Int64 stays `{"$numberLong": …}` and a Decimal128 a `$numberDecimal`:
 * the type is part of what differs), with long strings and arrays cut, since a mismatch row
 * is for finding the field that broke, not a copy of the document.
 *
 * @example
 * import { Long } from 'bson';
 * cleanValues({ balance: Long.fromNumber(10), note: 'x'.repeat(500) }, { maxStringLength: 8, maxArrayLength: 20 })
 * // { balance: { $numberLong: '10' }, note: 'xxxxxxxx… (500 characters)' }
 */
export function cleanValues(values: Readonly<Record<string, unknown>>, limits: CleanLimits): Document {
  const out: Document = {};
  for (const [path, value] of Object.entries(values)) {
    let ejson: unknown;
    try {
      ejson = EJSON.serialize({ value }, { relaxed: false }).value;
    } catch {
      ejson = { $unserializable: typeof value };
    }
    out[path] = cut(ejson, limits);
  }
  return out;
}

function cut(value: unknown, limits: CleanLimits): unknown {
  if (typeof value === 'string') {
    // jsonb cannot hold NUL, which a MongoDB string can.
    const text = value.replaceAll('\u0000', '\\u0000');
    return text.length > limits.maxStringLength
      ? `${text.slice(0, limits.maxStringLength)}… (${text.length} characters)`
      : text;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, limits.maxArrayLength).map((v) => cut(v, limits));
    return value.length > limits.maxArrayLength ? [...kept, `… (${value.length} elements)`] : kept;
  }
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cut(v, limits)]));
  return value;
}
