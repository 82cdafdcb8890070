import type { Document } from 'bson';
import { FerryError } from '../../core/errors.js';

/**
 * A MongoDB projection of plain fields (`{ name: 1, 'address.city': 1 }` or `{ secret: 0 }`),
 * applied to a document in memory the way MongoDB applies it: `_id` stays unless excluded, a
 * dotted path reaches into sub-documents and into each sub-document of an array. Shadow reads
 * apply it to both sides before comparing (so a projected read is compared on the projected
 * fields only), and reads routed to PostgreSQL apply it to the documents `toDoc` rebuilt.
 *
 * Projection operators (`$slice`, `$elemMatch`, `$meta`, computed fields) are refused with
 * `SHADOW_UNSUPPORTED_PROJECTION` rather than half-applied: a comparison on a projection Ferry
 * only pretends to apply would report mismatches that are not there, or hide real ones.
 *
 * @example
 * applyProjection({ _id: 1, name: 'Ann', address: { city: 'Oslo', zip: '0150' } }, { 'address.city': 1 })
 * // { _id: 1, address: { city: 'Oslo' } }
 * applyProjection({ _id: 1, name: 'Ann', secret: 'x' }, { secret: 0 })   // { _id: 1, name: 'Ann' }
 */
export function applyProjection(doc: Document, projection: Document | undefined): Document {
  if (projection === undefined || Object.keys(projection).length === 0) return doc;
  const { include, tree, keepId } = parseProjection(projection);
  if (include) {
    const out = (includeFields(doc, tree) ?? {}) as Document;
    if (keepId && Object.hasOwn(doc, '_id')) return { _id: doc._id, ...out };
    return out;
  }
  const out = excludeFields(doc, tree) as Document;
  if (!keepId) delete out._id;
  return out;
}

/** A projection path tree: `true` marks a projected leaf. */
type PathTree = Map<string, PathTree | true>;

interface ParsedProjection {
  readonly include: boolean;
  readonly tree: PathTree;
  readonly keepId: boolean;
}

/**
 * Check a projection and split it into an inclusion or exclusion tree; throws
 * `SHADOW_UNSUPPORTED_PROJECTION` on operators and on mixed inclusion and exclusion.
 *
 * @example
 * parseProjection({ name: 1, _id: 0 }).include   // true
 */
export function parseProjection(projection: Document): ParsedProjection {
  let include: boolean | undefined;
  let keepId = true;
  const tree: PathTree = new Map();
  for (const [path, value] of Object.entries(projection)) {
    const flag = projectionFlag(value);
    if (flag === undefined)
      throw new FerryError(`the projection of field "${path}" is not a plain 0 or 1`, {
        code: 'SHADOW_UNSUPPORTED_PROJECTION',
        category: 'usage',
        where: { path },
        hint: 'shadow reads and reads routed to PostgreSQL take projections of plain fields only; compare such reads with your own `compare`',
      });
    if (path === '_id') {
      keepId = flag;
      if (flag && Object.keys(projection).length === 1) include = true;
      continue;
    }
    if (include !== undefined && include !== flag)
      throw new FerryError('the projection mixes included and excluded fields', {
        code: 'SHADOW_UNSUPPORTED_PROJECTION',
        category: 'usage',
        where: { path },
        hint: 'use only 1s or only 0s (with `_id: 0` allowed in either)',
      });
    include = flag;
    addPath(tree, path.split('.'));
  }
  // `{ _id: 0 }` alone excludes only `_id`.
  return { include: include ?? false, tree, keepId };
}

function projectionFlag(value: unknown): boolean | undefined {
  if (value === 1 || value === true) return true;
  if (value === 0 || value === false) return false;
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { _bsontype?: string })._bsontype !== undefined
  ) {
    const n = Number((value as { valueOf(): unknown }).valueOf());
    if (n === 1) return true;
    if (n === 0) return false;
  }
  return undefined;
}

function addPath(tree: PathTree, parts: readonly string[]): void {
  const [head, ...rest] = parts as [string, ...string[]];
  if (rest.length === 0) {
    tree.set(head, true);
    return;
  }
  const existing = tree.get(head);
  if (existing === true) return;
  const child: PathTree = existing ?? new Map();
  tree.set(head, child);
  addPath(child, rest);
}

/**
 * Whether a value is a sub-document (not a BSON value, a Date or an array), which a dotted
 * projection path reaches into.
 */
export function isSubDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if ((value as { _bsontype?: unknown })._bsontype !== undefined) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function includeFields(value: unknown, tree: PathTree): unknown {
  if (Array.isArray(value))
    return value.filter((v) => isSubDocument(v) || Array.isArray(v)).map((v) => includeFields(v, tree));
  if (!isSubDocument(value)) return undefined;
  const out: Document = {};
  for (const [key, sub] of tree) {
    if (!Object.hasOwn(value, key)) continue;
    if (sub === true) out[key] = value[key];
    else {
      const inner = includeFields(value[key], sub);
      if (inner !== undefined) out[key] = inner;
    }
  }
  return out;
}

function excludeFields(value: unknown, tree: PathTree): unknown {
  if (Array.isArray(value)) return value.map((v) => excludeFields(v, tree));
  if (!isSubDocument(value)) return value;
  const out: Document = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = tree.get(key);
    if (sub === true) continue;
    out[key] = sub === undefined ? v : excludeFields(v, sub);
  }
  return out;
}
