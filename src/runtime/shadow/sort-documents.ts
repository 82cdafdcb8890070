import type { Document } from 'bson';
import { FerryError } from '../../core/errors.js';
import { type Classified, classify } from '../../mapping/canonical/index.js';

/**
 * A sort specification as MongoDB takes it: `{ field: 1 | -1, … }`, dotted paths allowed.
 *
 * @example
 * const newestFirst: SortSpec = { createdAt: -1, _id: 1 };
 */
export type SortSpec = Readonly<Record<string, 1 | -1 | number>>;

/**
 * The documents in the order MongoDB's `sort` gives them, for documents read from PostgreSQL
 * by `_id` (which come back in the order of the ids asked for). Values of different BSON types
 * order as MongoDB orders the types (null, numbers, strings, objects, arrays, binary, ObjectId,
 * booleans, dates, timestamps, regexes); numbers by value across types; strings by code points
 * (a collation is not applied); an array by its first element, which matches MongoDB for
 * arrays of one element. Stable: ties keep their incoming order.
 *
 * @example
 * sortDocuments([{ _id: 1, n: 2 }, { _id: 2, n: 1 }], { n: 1 }).map((d) => d._id)   // [2, 1]
 */
export function sortDocuments<T extends Document>(docs: readonly T[], sort: SortSpec): T[] {
  const keys = Object.entries(sort).map(([path, direction]) => {
    if (direction !== 1 && direction !== -1)
      throw new FerryError(`the sort of field "${path}" is not 1 or -1`, {
        code: 'SHADOW_UNSUPPORTED_SORT',
        category: 'usage',
        where: { path },
        hint: 'shadow reads and reads routed to PostgreSQL sort by plain fields, ascending (1) or descending (-1)',
      });
    return { path, direction };
  });
  return docs
    .map((doc, index) => ({ doc, index }))
    .sort((a, b) => {
      for (const { path, direction } of keys) {
        const order = compareValues(valueAt(a.doc, path), valueAt(b.doc, path));
        if (order !== 0) return order * direction;
      }
      return a.index - b.index;
    })
    .map((entry) => entry.doc);
}

/**
 * The value at a dotted path (`address.city`), undefined where the path leads nowhere.
 *
 * @example
 * valueAt({ address: { city: 'Oslo' } }, 'address.city')   // 'Oslo'
 */
export function valueAt(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** MongoDB's order of the BSON types in a sort. */
const TYPE_RANK: Record<Classified['kind'], number> = {
  minKey: 0,
  undefined: 1,
  null: 1,
  number: 2,
  string: 3,
  symbol: 3,
  object: 4,
  array: 5,
  binary: 6,
  objectId: 7,
  boolean: 8,
  date: 9,
  timestamp: 10,
  regex: 11,
  code: 12,
  maxKey: 13,
};

function compareValues(a: unknown, b: unknown): number {
  const x = classify(a === undefined ? null : a);
  const y = classify(b === undefined ? null : b);
  if (x.kind === 'array') return compareValues(x.value[0], b);
  if (y.kind === 'array') return compareValues(a, y.value[0]);
  const rank = TYPE_RANK[x.kind] - TYPE_RANK[y.kind];
  if (rank !== 0) return Math.sign(rank);
  return compareSameKind(x, y);
}

function compareSameKind(x: Classified, y: Classified): number {
  switch (x.kind) {
    case 'number':
      return Math.sign(Number(numeric(x.value)) - Number(numeric((y as typeof x).value)));
    case 'string':
    case 'symbol':
      return codePointOrder(x.value, (y as typeof x).value);
    case 'boolean':
      return Number(x.value) - Number((y as typeof x).value);
    case 'date':
      return Math.sign(x.value - (y as typeof x).value);
    case 'objectId':
      return codePointOrder(x.value.toHexString(), (y as typeof x).value.toHexString());
    case 'timestamp':
      return Math.sign(x.t - (y as typeof x).t) || Math.sign(x.i - (y as typeof x).i);
    default:
      return 0;
  }
}

function numeric(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return Number(String(value));
}

function codePointOrder(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return Math.sign(d);
  }
  return Math.sign(x.length - y.length);
}
