import { BSON_TYPE_NAMES, type BsonTypeName } from './bson-type.js';
import { type CollectionState, NOTHING_PINNED, ROOT_PINNED } from './collection-state.js';
import { compareDecimal, decimalShape, formatDecimal } from './decimal-shape.js';
import { type FieldNode, ID_KINDS, type IdKind, mergedMapValues } from './field-node.js';
import { ANY_KEY, comparePaths, ELEMENT, type FieldPath, formatPath } from './field-path.js';
import type { InferLimits } from './limits.js';
import { judgeMapLikeness, type MapVerdict, round } from './map-likeness.js';
import { detectReferences, type IdPath, type ReferenceFinding, type ReferenceOptions } from './references.js';
import type { NumberStats } from './value-stats.js';

/** Statistics of one path; optional sections appear only when such values were seen. */
export interface FieldSnapshot {
  readonly path: FieldPath;
  /** `formatPath(path)`, for display. */
  readonly name: string;
  /** Containers that could hold this path: parent objects for a field, arrays for `[]`, maps for `*`. */
  readonly parentCount: number;
  /** Containers where it was there (null counts as present): for `[]`/`*`, non-empty containers. */
  readonly present: number;
  /** present / parentCount (4 decimals). */
  readonly presence: number;
  /** Values seen (equals `present` for a named field; total elements/entries for `[]`/`*`). */
  readonly occurrences: number;
  readonly nulls: number;
  /** Counts per BSON type, in BSON_TYPE_NAMES order. */
  readonly types: Readonly<Partial<Record<BsonTypeName, number>>>;
  readonly strings?: {
    readonly count: number;
    readonly minLength: number;
    readonly maxLength: number;
    readonly maxBytes: number;
    readonly withNul: number;
    readonly malformed: number;
    readonly objectIdHex: number;
    readonly uuid: number;
  };
  readonly numbers?: {
    readonly count: number;
    /** Exact decimal text; null when every value was NaN/±Infinity. */
    readonly min: string | null;
    readonly max: string | null;
    readonly nonIntegral: number;
    readonly nonFinite: number;
    readonly fitsInt32: boolean;
    readonly fitsInt64: boolean;
    readonly double?: { readonly maxPrecision: number; readonly maxScale: number };
    readonly decimal?: { readonly maxPrecision: number; readonly maxScale: number };
  };
  readonly dates?: {
    readonly count: number;
    readonly min: string | null;
    readonly max: string | null;
    readonly outsidePostgres: number;
    readonly invalid: number;
  };
  readonly binary?: {
    readonly count: number;
    readonly subtypes: Readonly<Record<string, number>>;
    readonly minLength: number;
    readonly maxLength: number;
  };
  readonly arrays?: {
    readonly count: number;
    readonly empty: number;
    readonly minLength: number;
    readonly maxLength: number;
    readonly avgLength: number;
    /** Same as the `[]` child's `types`, repeated here for the report's convenience. */
    readonly elementTypes: Readonly<Partial<Record<BsonTypeName, number>>>;
  };
  readonly objects?: {
    readonly count: number;
    readonly minKeys: number;
    readonly maxKeys: number;
    readonly map: MapVerdict;
  };
  /** Distinct id values per kind (estimates when not exact), for reference detection. */
  readonly ids?: Readonly<Partial<Record<IdKind, { readonly distinct: number; readonly exact: boolean }>>>;
}

/** One collection's statistics. */
export interface CollectionSnapshot {
  readonly name: string;
  readonly documents: number;
  readonly rejects: number;
  /** False when only a sample of the documents was read. */
  readonly complete: boolean;
  /** False when not every `_id` was seen; overlaps into this collection understate. */
  readonly idsComplete: boolean;
  readonly ids: { readonly distinct: number; readonly exact: boolean };
  /** Present only when the documents themselves look like maps (keys are data). */
  readonly documentMap?: MapVerdict;
  readonly fields: readonly FieldSnapshot[];
}

/** Everything `ferry infer` collected, ready for the mapping proposal and `--json`. */
export interface InferenceSnapshot {
  readonly version: 1;
  readonly limits: InferLimits;
  readonly collections: readonly CollectionSnapshot[];
  readonly references: readonly ReferenceFinding[];
}

/** Options for a snapshot. */
export interface SnapshotOptions {
  readonly references?: Partial<ReferenceOptions>;
}

/**
 * Build the snapshot from the collector's live state without changing it.
 *
 * @example
 * declare const states: ReadonlyMap<string, CollectionState>;
 * buildSnapshot(states, DEFAULT_LIMITS, {}).collections[0]?.fields[0]?.name; // '_id'
 */
export function buildSnapshot(
  states: ReadonlyMap<string, CollectionState>,
  limits: InferLimits,
  options: SnapshotOptions,
): InferenceSnapshot {
  const names = [...states.keys()].sort();
  const collections: CollectionSnapshot[] = [];
  const idPaths: IdPath[] = [];
  for (const name of names) {
    const state = states.get(name)!;
    const fields: FieldSnapshot[] = [];
    const walker = { fields, idPaths, collection: name, exampleKeys: limits.exampleKeys };
    const rootVerdict = state.root.objects ? judgeMapLikeness(state.root.objects) : undefined;
    const documentMap = rootVerdict?.isMap ? rootVerdict : undefined;
    walkChildren(walker, state.root, [], state.documents, documentMap !== undefined, ROOT_PINNED);
    fields.sort((a, b) => comparePaths(a.path, b.path));
    collections.push({
      name,
      documents: state.documents,
      rejects: state.rejects,
      complete: state.complete,
      idsComplete: state.idsComplete,
      ids: { distinct: state.ids.distinct, exact: state.ids.exact },
      ...(documentMap ? { documentMap } : {}),
      fields,
    });
  }
  const references = detectReferences(idPaths, states, options.references);
  return { version: 1, limits, collections, references };
}

interface Walker {
  readonly fields: FieldSnapshot[];
  readonly idPaths: IdPath[];
  readonly collection: string;
  readonly exampleKeys: number;
}

function walkChildren(
  walker: Walker,
  node: FieldNode,
  path: FieldPath,
  objectCount: number,
  isMap: boolean,
  pinned: ReadonlySet<string>,
): void {
  for (const [segment, child] of node.fields) {
    if (isMap && !pinned.has(segment)) continue;
    walk(walker, child, [...path, segment], objectCount, child.occurrences);
  }
  if (isMap) {
    // Collapsed while collecting: `*` is already the merged view. Otherwise merge now.
    const onlyPinned = [...node.fields.keys()].every((k) => pinned.has(k));
    const values = onlyPinned && node.anyKey ? node.anyKey : mergedMapValues(node, pinned, walker);
    walk(walker, values, [...path, ANY_KEY], objectCount, node.objects?.nonEmpty ?? 0);
  }
}

function walk(walker: Walker, node: FieldNode, path: FieldPath, parentCount: number, present: number): void {
  let objects: FieldSnapshot['objects'];
  let isMap = false;
  if (node.objects) {
    const map = judgeMapLikeness(node.objects);
    isMap = map.isMap;
    const o = node.objects;
    objects = { count: o.count, minKeys: o.minKeys, maxKeys: o.maxKeys, map };
  }
  const ids = idSection(node);
  if (ids) walker.idPaths.push({ collection: walker.collection, path, node });
  walker.fields.push({
    path,
    name: formatPath(path),
    parentCount,
    present,
    presence: round(parentCount === 0 ? 0 : present / parentCount),
    occurrences: node.occurrences,
    nulls: node.types.get('null') ?? 0,
    types: typeCounts(node),
    ...(node.strings ? { strings: { ...node.strings } } : {}),
    ...(node.numbers ? { numbers: numberSection(node.numbers) } : {}),
    ...(node.dates ? { dates: dateSection(node.dates) } : {}),
    ...(node.binary ? { binary: binarySection(node.binary) } : {}),
    ...(node.arrays ? { arrays: arraySection(node) } : {}),
    ...(objects ? { objects } : {}),
    ...(ids ? { ids } : {}),
  });
  if (node.element)
    walk(walker, node.element, [...path, ELEMENT], node.arrays?.count ?? 0, node.arrays?.nonEmpty ?? 0);
  walkChildren(walker, node, path, node.objects?.count ?? 0, isMap, NOTHING_PINNED);
}

function typeCounts(node: FieldNode): Partial<Record<BsonTypeName, number>> {
  const out: Partial<Record<BsonTypeName, number>> = {};
  for (const type of BSON_TYPE_NAMES) {
    const n = node.types.get(type);
    if (n) out[type] = n;
  }
  return out;
}

const INT32 = { min: decimalShape('-2147483648')!, max: decimalShape('2147483647')! };
const INT64 = { min: decimalShape('-9223372036854775808')!, max: decimalShape('9223372036854775807')! };

function numberSection(n: NumberStats): NonNullable<FieldSnapshot['numbers']> {
  const integral = n.nonIntegral === 0 && n.nonFinite === 0 && n.min !== undefined && n.max !== undefined;
  const fits = (range: typeof INT32) =>
    integral && compareDecimal(n.min!, range.min) >= 0 && compareDecimal(n.max!, range.max) <= 0;
  return {
    count: n.count,
    min: n.min ? formatDecimal(n.min) : null,
    max: n.max ? formatDecimal(n.max) : null,
    nonIntegral: n.nonIntegral,
    nonFinite: n.nonFinite,
    fitsInt32: fits(INT32),
    fitsInt64: fits(INT64),
    ...(n.doublePrecision > 0
      ? { double: { maxPrecision: n.doublePrecision, maxScale: n.doubleScale } }
      : {}),
    ...(n.decimalPrecision > 0
      ? { decimal: { maxPrecision: n.decimalPrecision, maxScale: n.decimalScale } }
      : {}),
  };
}

function dateSection(d: NonNullable<FieldNode['dates']>): NonNullable<FieldSnapshot['dates']> {
  const finite = Number.isFinite(d.min);
  return {
    count: d.count,
    min: finite ? new Date(d.min).toISOString() : null,
    max: finite ? new Date(d.max).toISOString() : null,
    outsidePostgres: d.outsidePostgres,
    invalid: d.invalid,
  };
}

function binarySection(b: NonNullable<FieldNode['binary']>): NonNullable<FieldSnapshot['binary']> {
  const subtypes: Record<string, number> = {};
  for (const subtype of [...b.subtypes.keys()].sort((x, y) => x - y))
    subtypes[String(subtype)] = b.subtypes.get(subtype)!;
  return { count: b.count, subtypes, minLength: b.minLength, maxLength: b.maxLength };
}

function arraySection(node: FieldNode): NonNullable<FieldSnapshot['arrays']> {
  const a = node.arrays!;
  return {
    count: a.count,
    empty: a.count - a.nonEmpty,
    minLength: a.minLength,
    maxLength: a.maxLength,
    avgLength: round(a.totalLength / a.count),
    elementTypes: node.element ? typeCounts(node.element) : {},
  };
}

function idSection(node: FieldNode): FieldSnapshot['ids'] {
  if (node.ids.size === 0) return undefined;
  const out: Partial<Record<IdKind, { distinct: number; exact: boolean }>> = {};
  for (const kind of ID_KINDS) {
    const sketch = node.ids.get(kind);
    if (sketch) out[kind] = { distinct: sketch.distinct, exact: sketch.exact };
  }
  return out;
}
