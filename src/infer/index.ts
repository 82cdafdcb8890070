/**
 * `ferry infer`, statistics half: field statistics per path and reference candidates,
 * collected in bounded memory. The mapping proposal builds on `InferenceSnapshot`.
 */
export { BSON_TYPE_NAMES, type BsonTypeName, bsonTypeOf } from './bson-type.js';
export {
  type CollectProgress,
  type CollectStatsOptions,
  collectStats,
  type SampleMode,
} from './collect-stats.js';
export { InferenceStats, type InferenceStatsOptions } from './collector.js';
export type { CollapseReason, IdKind } from './field-node.js';
export { ANY_KEY, comparePaths, ELEMENT, type FieldPath, formatPath, keySegment } from './field-path.js';
export { HashSketch, hash53 } from './hash-sketch.js';
export { KEY_SHAPES, type KeyShape, keyShape } from './key-shape.js';
export { DEFAULT_LIMITS, type InferLimits } from './limits.js';
export { MAP_THRESHOLDS, type MapEvidence, type MapReason, type MapVerdict } from './map-likeness.js';
export {
  DEFAULT_REFERENCE_OPTIONS,
  type ReferenceFinding,
  type ReferenceKind,
  type ReferenceOptions,
  type ReferenceTarget,
  type ReferenceVerdict,
} from './references.js';
export { Reservoir } from './reservoir.js';
export type {
  CollectionSnapshot,
  FieldSnapshot,
  InferenceSnapshot,
  SnapshotOptions,
} from './snapshot.js';
