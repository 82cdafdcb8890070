/**
 * The caps that keep `ferry infer` in bounded memory on collections of any size. Each is
 * per collection unless it says otherwise; worst-case memory is roughly
 * `maxPathsPerCollection × (3 × valueSketchCapacity + maxKeysPerObject) × 16 bytes
 *  + idSketchCapacity × 16 bytes` per collection, independent of the document count.
 */
export interface InferLimits {
  /**
   * Distinct keys tracked per object path (default 256). An object path whose documents use
   * more distinct keys than this is *collapsed*: its children merge into one `*` path, and the
   * overflow itself is recorded as map evidence (`keyCapExceeded`), because developers do not
   * write hundreds of distinct field names at one level, while maps routinely have them.
   */
  readonly maxKeysPerObject: number;
  /**
   * Paths tracked per collection (default 5000). When a new field would exceed it, its parent
   * object is collapsed into `*` (evidence `pathBudgetExceeded`) instead of growing the tree.
   */
  readonly maxPathsPerCollection: number;
  /** Hashes kept for a collection's `_id` values before threshold sampling starts (default 100 000). */
  readonly idSketchCapacity: number;
  /** Hashes kept per path and id kind for reference detection (default 2048). */
  readonly valueSketchCapacity: number;
  /** Strings longer than this are not considered as ids (default 64). */
  readonly maxIdStringLength: number;
  /** Example keys kept per object path for the report (default 5). */
  readonly exampleKeys: number;
}

/**
 * The defaults, chosen so a 10-collection database stays well under 200 MB of statistics.
 *
 * @example
 * new InferenceStats({ limits: { ...DEFAULT_LIMITS, maxKeysPerObject: 64 } });
 */
export const DEFAULT_LIMITS: InferLimits = {
  maxKeysPerObject: 256,
  maxPathsPerCollection: 5000,
  idSketchCapacity: 100_000,
  valueSketchCapacity: 2048,
  maxIdStringLength: 64,
  exampleKeys: 5,
};
