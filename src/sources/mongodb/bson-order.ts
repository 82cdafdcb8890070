import type { Document } from 'bson';

/**
 * MongoDB sorts values of different BSON types in a fixed order of "brackets", but a query
 * such as `{_id: {$gt: x}}` only matches values in x's own bracket (type bracketing). So
 * "every `_id` after x" must be spelled as "after x within its bracket, or of any later
 * bracket", and the later brackets are named with `$type`. This file holds that order and
 * builds such filters; it is pure so it can be tested without a server.
 *
 * Order from MongoDB's `canonicalizeBSONType` (see "Comparison/Sort Order" in the MongoDB
 * manual). `array` and `regex` can never be an `_id`, but stay listed so the order is whole.
 */
export const BSON_BRACKETS = [
  { name: 'minKey', aliases: ['minKey'], singleton: true },
  { name: 'undefined', aliases: ['undefined'], singleton: true },
  { name: 'null', aliases: ['null'], singleton: true },
  // `number` covers double, int, long and decimal in one alias, which FerretDB 1.24 also accepts
  // (it rejects the `decimal` alias).
  { name: 'number', aliases: ['number'], singleton: false },
  { name: 'string', aliases: ['string', 'symbol'], singleton: false },
  { name: 'object', aliases: ['object'], singleton: false },
  { name: 'array', aliases: ['array'], singleton: false },
  { name: 'binData', aliases: ['binData'], singleton: false },
  { name: 'objectId', aliases: ['objectId'], singleton: false },
  { name: 'bool', aliases: ['bool'], singleton: false },
  { name: 'date', aliases: ['date'], singleton: false },
  { name: 'timestamp', aliases: ['timestamp'], singleton: false },
  { name: 'regex', aliases: ['regex'], singleton: false },
  { name: 'dbPointer', aliases: ['dbPointer'], singleton: false },
  { name: 'javascript', aliases: ['javascript'], singleton: false },
  { name: 'javascriptWithScope', aliases: ['javascriptWithScope'], singleton: false },
  { name: 'maxKey', aliases: ['maxKey'], singleton: true },
] as const;

/** Every `$type` alias the filters may use, in bracket order. */
export const ALL_TYPE_ALIASES: readonly string[] = BSON_BRACKETS.flatMap((b) => b.aliases);

/**
 * The position of a value's bracket in {@link BSON_BRACKETS}.
 *
 * @example
 * import { ObjectId } from 'bson';
 * bracketOf(new ObjectId()) > bracketOf('a') // true: every ObjectId sorts after every string
 */
export function bracketOf(value: unknown): number {
  return BSON_BRACKETS.findIndex((b) => b.name === bracketName(value));
}

function bracketName(value: unknown): (typeof BSON_BRACKETS)[number]['name'] {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  if (Array.isArray(value)) return 'array';
  const bsontype = (value as { _bsontype?: unknown })._bsontype;
  switch (bsontype) {
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return 'number';
    case 'BSONSymbol':
      return 'string';
    case 'Binary':
      return 'binData';
    case 'ObjectId':
      return 'objectId';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'Code':
      return (value as { scope?: unknown }).scope == null ? 'javascript' : 'javascriptWithScope';
    // js-bson decodes a (deprecated) DBPointer as a DBRef, which it writes back as an object:
    // treat both as objects, which is what a query built from it will match.
    default:
      return 'object';
  }
}

/** NaN sorts before every other number but `$gt`/`$lt` against NaN match nothing. */
function isNaNValue(value: unknown): boolean {
  if (typeof value === 'number') return Number.isNaN(value);
  const bsontype = (value as { _bsontype?: unknown } | null)?._bsontype;
  if (bsontype === 'Double') return Number.isNaN((value as { value: number }).value);
  if (bsontype === 'Decimal128') return String(value) === 'NaN';
  return false;
}

/** A boundary of an `_id` interval. */
export interface IdBound {
  readonly id: unknown;
  readonly inclusive: boolean;
}

/** An `_id` interval in MongoDB's sort order; a missing side is open. */
export interface IdInterval {
  readonly lower?: IdBound;
  /**
   * Always exclusive: ranges meet at a boundary that belongs to the later range. Wrapped so
   * that any `_id` value (even `null`) can be a boundary, and absence means "open".
   */
  readonly upper?: { readonly id: unknown };
}

/**
 * A filter matching exactly the documents whose `_id` lies in `interval` in MongoDB's sort
 * order, across all BSON types. `aliases` lists the `$type` aliases the server understands;
 * brackets whose aliases it rejects are assumed to hold nothing (a server that cannot filter
 * on a type cannot store it either: true of FerretDB 1.24 for decimal, minKey, maxKey,
 * symbol and javascript).
 *
 * @example
 * idIntervalFilter({ lower: { id: 'm', inclusive: false } }, ALL_TYPE_ALIASES)
 * // { $or: [{ _id: { $gt: 'm' } }, { _id: { $type: ['object', …, 'maxKey'] } }] }
 */
export function idIntervalFilter(interval: IdInterval, aliases: readonly string[]): Document {
  const supported = new Set(aliases);
  const typesOf = (from: number, to: number) =>
    BSON_BRACKETS.slice(from, to)
      .flatMap((b) => b.aliases)
      .filter((a) => supported.has(a));
  const clauses: Document[] = [];
  if (interval.lower !== undefined) {
    const { id, inclusive } = interval.lower;
    const at = bracketOf(id);
    const bracket = BSON_BRACKETS[at]!;
    const later = typesOf(at + 1, BSON_BRACKETS.length);
    const same: Document[] = [];
    if (bracket.singleton) {
      // Only one such _id can exist; matching by type avoids sending MinKey/undefined values,
      // whose comparison rules differ (and which js-bson cannot even write back as undefined).
      if (inclusive) later.unshift(...bracket.aliases.filter((a) => supported.has(a)));
    } else if (isNaNValue(id)) {
      same.push({ _id: inclusive ? { $type: 'number' } : { $gte: Number.NEGATIVE_INFINITY } });
    } else {
      same.push({ _id: inclusive ? { $gte: id } : { $gt: id } });
    }
    clauses.push(anyOf([...same, ...(later.length > 0 ? [{ _id: { $type: later } }] : [])]));
  }
  if (interval.upper !== undefined) {
    const { id } = interval.upper;
    const at = bracketOf(id);
    const bracket = BSON_BRACKETS[at]!;
    const earlier = typesOf(0, at);
    const same: Document[] = bracket.singleton || isNaNValue(id) ? [] : [{ _id: { $lt: id } }];
    clauses.push(anyOf([...same, ...(earlier.length > 0 ? [{ _id: { $type: earlier } }] : [])]));
  }
  if (clauses.length === 0) return {};
  return clauses.length === 1 ? clauses[0]! : { $and: clauses };
}

/** `$or` of the clauses; none at all means "matches nothing". */
function anyOf(clauses: Document[]): Document {
  if (clauses.length === 0) return { _id: { $in: [] } };
  return clauses.length === 1 ? clauses[0]! : { $or: clauses };
}
