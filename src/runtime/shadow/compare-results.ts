import type { Document } from 'bson';
import { canonicalDiff, canonicalEqual, canonicalHash } from '../../mapping/canonical/index.js';
import { applyProjection, isSubDocument } from './projection.js';
import { type SortSpec, valueAt } from './sort-documents.js';

/**
 * How the primary's and the candidate's answers to one read differ for one document (or, for
 * an answer that is not documents, for the whole answer): the differing field paths and each
 * side's values at those paths, as given. `''` is the whole document (present on one side
 * only); `$order` says the documents come in a different order under the read's sort.
 *
 * @example
 * const d: ShadowDifference = { docId: 7, paths: ['balance'], primary: { balance: 10 }, candidate: { balance: 12 } };
 */
export interface ShadowDifference {
  readonly docId?: unknown;
  readonly paths: readonly string[];
  readonly primary: Readonly<Record<string, unknown>>;
  readonly candidate: Readonly<Record<string, unknown>>;
}

/**
 * What a comparison takes from the read: its projection (only the projected fields are
 * compared) and its sort (only a sorted read is compared in order).
 *
 * @example
 * const shape: ReadShape = { projection: { balance: 1 }, sort: { createdAt: -1 } };
 */
export interface ReadShape {
  readonly projection?: Document;
  readonly sort?: SortSpec;
}

/** At most this many paths are reported per document: enough to see what broke. */
const PATHS_PER_DOCUMENT = 20;

/**
 * Compare the primary's answer with the candidate's under the canonical comparison (DESIGN.md
 * invariant 4). Answers that are documents (one, `null`, or a list) are compared document by
 * document, matched by `_id`; a list's order counts only when the read sorts, and then only as
 * far as the sort decides it (documents with equal sort keys may come in either order, as
 * MongoDB gives no order among them). Any other answer (a count, a distinct list) is compared
 * whole. Mongoose documents are compared as their plain objects.
 *
 * @example
 * compareResults([{ _id: 1, a: 1 }, { _id: 2, a: 2 }], [{ _id: 2, a: 2 }, { _id: 1, a: 1 }], {})   // []: no sort, no order
 * compareResults({ _id: 1, a: 1 }, { _id: 1, a: 2 }, {})[0]?.paths                               // ['a']
 */
export function compareResults(primary: unknown, candidate: unknown, shape: ReadShape): ShadowDifference[] {
  const left = documentsOf(plainOf(primary));
  const right = documentsOf(plainOf(candidate));
  if (left === undefined || right === undefined) {
    const differences = canonicalDiff(plainOf(primary), plainOf(candidate), { limit: PATHS_PER_DOCUMENT });
    return differences.length === 0 ? [] : [fromDiff(undefined, differences)];
  }
  const project = (docs: readonly Document[]) => docs.map((d) => applyProjection(d, shape.projection));
  const p = project(left);
  const c = project(right);
  const keyed = p.every((d) => Object.hasOwn(d, '_id')) && c.every((d) => Object.hasOwn(d, '_id'));
  if (!keyed) return compareByPosition(p, c);
  const found = compareById(p, c);
  if (found.length === 0 && shape.sort !== undefined) return compareOrder(p, c, shape.sort);
  return found;
}

/** Documents by `_id`: missing on either side, then each common one's differing paths. */
function compareById(primary: readonly Document[], candidate: readonly Document[]): ShadowDifference[] {
  const byId = new Map(candidate.map((d) => [canonicalHash(d._id), d]));
  const out: ShadowDifference[] = [];
  for (const doc of primary) {
    const key = canonicalHash(doc._id);
    const other = byId.get(key);
    byId.delete(key);
    if (other === undefined) out.push({ docId: doc._id, paths: [''], primary: { '': doc }, candidate: {} });
    else {
      const differences = canonicalDiff(doc, other, { limit: PATHS_PER_DOCUMENT });
      if (differences.length > 0) out.push(fromDiff(doc._id, differences));
    }
  }
  for (const doc of byId.values())
    out.push({ docId: doc._id, paths: [''], primary: {}, candidate: { '': doc } });
  return out;
}

/** Documents without `_id` (projected away): compared position by position. */
function compareByPosition(primary: readonly Document[], candidate: readonly Document[]): ShadowDifference[] {
  const out: ShadowDifference[] = [];
  for (let i = 0; i < Math.max(primary.length, candidate.length); i++) {
    const differences = canonicalDiff(primary[i], candidate[i], { limit: PATHS_PER_DOCUMENT });
    if (differences.length > 0) out.push(fromDiff(undefined, differences, String(i)));
  }
  return out;
}

/**
 * The same documents, sorted: the sort keys must come in the same sequence on both sides.
 * Comparing keys rather than ids lets documents that tie under the sort swap places.
 */
function compareOrder(primary: readonly Document[], candidate: readonly Document[], sort: SortSpec) {
  const paths = Object.keys(sort);
  const keyOf = (d: Document) => paths.map((path) => valueAt(d, path));
  for (let i = 0; i < primary.length; i++) {
    if (!canonicalEqual(keyOf(primary[i]!), keyOf(candidate[i]!)))
      return [
        {
          docId: primary[i]!._id,
          paths: ['$order'],
          primary: { $order: i },
          candidate: { $order: candidate.findIndex((d) => canonicalEqual(d._id, primary[i]!._id)) },
        },
      ];
  }
  return [];
}

function fromDiff(
  docId: unknown,
  differences: ReturnType<typeof canonicalDiff>,
  prefix?: string,
): ShadowDifference {
  const primary: Record<string, unknown> = {};
  const candidate: Record<string, unknown> = {};
  const paths: string[] = [];
  for (const d of differences) {
    const path = prefix === undefined ? d.path : d.path === '' ? prefix : `${prefix}.${d.path}`;
    paths.push(path);
    if (d.kind !== 'missing_left') primary[path] = d.left;
    if (d.kind !== 'missing_right') candidate[path] = d.right;
  }
  return { ...(docId !== undefined && { docId }), paths, primary, candidate };
}

/** An answer as a list of documents, or undefined when it is not documents. */
function documentsOf(value: unknown): Document[] | undefined {
  if (value === null || value === undefined) return [];
  if (isSubDocument(value)) return [value];
  if (Array.isArray(value) && value.every((v) => isSubDocument(v) || v === undefined || v === null))
    return value.filter((v): v is Document => isSubDocument(v));
  return undefined;
}

/** A Mongoose document as its plain object (arrays of them too); anything else as it is. */
export function plainOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.some(isMongooseDocument) ? value.map(plainOf) : value;
  if (isMongooseDocument(value))
    return value.toObject({ depopulate: true, virtuals: false, getters: false, transform: false });
  return value;
}

function isMongooseDocument(value: unknown): value is { toObject(options: object): unknown } {
  return (
    value !== null &&
    typeof value === 'object' &&
    '$__' in value &&
    typeof (value as { toObject?: unknown }).toObject === 'function'
  );
}
