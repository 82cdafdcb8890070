import type { CollapseReason, ObjectStats } from './field-node.js';
import { DATA_SHAPES, KEY_SHAPES, type KeyShape, STRONG_DATA_SHAPES } from './key-shape.js';

/** Why an object path was judged to be a map (keys are data) rather than a struct. */
export type MapReason = CollapseReason | 'dataShapedKeys' | 'keysNotShared';

/** What the verdict was based on, in the snapshot so the report can quote it. */
export interface MapEvidence {
  readonly objects: number;
  /** Distinct keys: exact when `distinctKeysExact`, else an estimate (the key cap was passed). */
  readonly distinctKeys: number;
  readonly distinctKeysExact: boolean;
  readonly meanKeysPerObject: number;
  /**
   * Mean share of objects a key appears in (= mean keys per object / distinct keys): near 1
   * for a struct whose fields are always there, near 0 for a map whose keys are ids.
   */
  readonly keyPresence: number;
  /** Shapes of the distinct keys seen (a uniform sample of them past the key cap). */
  readonly keyShapes: Readonly<Partial<Record<KeyShape, number>>>;
  /** Share of those keys that look like data (ids, numbers, dates, codes). */
  readonly dataKeyShare: number;
  /** Up to `exampleKeys` keys, a hash-chosen sample independent of document order, sorted. */
  readonly exampleKeys: readonly string[];
}

/** The verdict for one object path. */
export interface MapVerdict {
  readonly isMap: boolean;
  readonly reasons: readonly MapReason[];
  readonly evidence: MapEvidence;
}

/** Thresholds of the heuristic, exported so tests and the report can name them. */
export const MAP_THRESHOLDS = {
  /** Share of data-shaped keys above which keys are data. */
  dataKeyShare: 0.8,
  /** Weak shapes only (currency/country codes) need at least this many distinct keys. */
  minWeakDataKeys: 2,
  /** keysNotShared needs this many distinct keys, so a small optional struct is not a map. */
  minDistinctForSharing: 32,
  /** …and a key presence below this. */
  keyPresence: 0.1,
} as const;

/**
 * Judge whether the objects at one path are maps. Rules, any of which is enough:
 * 1. the path was collapsed while collecting (the key cap or path budget was exceeded);
 * 2. `dataShapedKeys`: at least 80% of distinct keys look like ObjectId hex, UUIDs,
 *    numbers, ISO dates or currency/country codes (codes alone need ≥ 2 distinct keys,
 *    since `ID` or `EUR` may be a constant field name);
 * 3. `keysNotShared`: ≥ 32 distinct keys, each in < 10% of the objects on average, and
 *    either many keys per object seen (distinct ≥ 10% of objects) or mostly non-identifier
 *    keys; a sparse optional struct has few keys, a map has many.
 *
 * @example
 * declare const node: FieldNode;
 * judgeMapLikeness(node.objects!).isMap; // true for { '2024-01-03': 4, '2024-01-04': 9 }
 */
export function judgeMapLikeness(stats: ObjectStats): MapVerdict {
  const evidence = mapEvidence(stats);
  const reasons: MapReason[] = [];
  if (stats.collapsed) reasons.push(stats.collapsed);
  const admitted = KEY_SHAPES.reduce((sum, shape) => sum + stats.shapes[shape], 0);
  const data = KEY_SHAPES.filter((s) => DATA_SHAPES.has(s)).reduce((sum, s) => sum + stats.shapes[s], 0);
  const strong = KEY_SHAPES.filter((s) => STRONG_DATA_SHAPES.has(s)).reduce(
    (sum, s) => sum + stats.shapes[s],
    0,
  );
  if (
    admitted > 0 &&
    evidence.dataKeyShare >= MAP_THRESHOLDS.dataKeyShare &&
    (strong > 0 || data >= MAP_THRESHOLDS.minWeakDataKeys)
  ) {
    reasons.push('dataShapedKeys');
  }
  const identifierShare = admitted === 0 ? 1 : stats.shapes.fieldName / admitted;
  if (
    evidence.distinctKeys >= MAP_THRESHOLDS.minDistinctForSharing &&
    evidence.keyPresence < MAP_THRESHOLDS.keyPresence &&
    (evidence.distinctKeys >= 0.1 * stats.count || identifierShare < 0.5)
  ) {
    reasons.push('keysNotShared');
  }
  return { isMap: reasons.length > 0, reasons, evidence };
}

function mapEvidence(stats: ObjectStats): MapEvidence {
  const admitted = KEY_SHAPES.reduce((sum, shape) => sum + stats.shapes[shape], 0);
  const data = KEY_SHAPES.filter((s) => DATA_SHAPES.has(s)).reduce((sum, s) => sum + stats.shapes[s], 0);
  const meanKeys = stats.count === 0 ? 0 : stats.totalKeys / stats.count;
  const distinct = stats.keys.distinct;
  const keyShapes: Partial<Record<KeyShape, number>> = {};
  for (const shape of KEY_SHAPES) if (stats.shapes[shape] > 0) keyShapes[shape] = stats.shapes[shape];
  return {
    objects: stats.count,
    distinctKeys: distinct,
    distinctKeysExact: stats.keys.exact,
    meanKeysPerObject: round(meanKeys),
    keyPresence: round(distinct === 0 ? 1 : Math.min(1, meanKeys / distinct)),
    keyShapes,
    dataKeyShare: round(admitted === 0 ? 0 : data / admitted),
    exampleKeys: stats.examples.map((e) => e.key).sort(),
  };
}

/** Four decimals: stable in snapshots, precise enough for every threshold above. */
export function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
