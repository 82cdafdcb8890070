/**
 * The results `verify` produces: plain, JSON-safe data, so the same object is printed as a
 * table, written as `--json`, rendered as the HTML report and stored in `ferry.verify_runs`.
 */

/**
 * How hard to look (see `verify`).
 *
 * @example
 * declare const source: Source;
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await verify({ source, db, plan, level: 'sample' satisfies VerifyLevel, fraction: 0.05 });
 */
export type VerifyLevel = 'count' | 'deep' | 'sample';

/**
 * How one document differs:
 * - `missing_in_target`: in the source, not rejected, and not in the target;
 * - `extra_in_target`: in the target, not in the source;
 * - `content`: on both sides, different under the canonical comparison.
 */
export type DifferenceKind = 'missing_in_target' | 'extra_in_target' | 'content';

/**
 * One differing field of a content difference. `kind` is `canonicalDiff`'s (`value`, `type`,
 * `missing_left` = only the target has it, `missing_right` = only the source has it), or
 * `rows_invalid` when the target's rows for this field cannot be rebuilt at all (a gap in a
 * child table's `idx`). Values are Extended JSON (relaxed) and only present with `showValues`.
 *
 * @example
 * const difference: FieldDifference = {
 *   path: 'items.2.price',
 *   kind: 'value',
 *   source: '{"$numberDecimal":"9.99"}',
 *   target: '{"$numberDecimal":"10.0"}',
 * };
 */
export interface FieldDifference {
  readonly path: string;
  readonly kind: 'value' | 'type' | 'missing_left' | 'missing_right' | 'rows_invalid';
  readonly source?: string;
  readonly target?: string;
}

/**
 * One document that does not match. `id` is the `_id` as people type it: an ObjectId's hex,
 * a string as is, anything else as relaxed Extended JSON.
 *
 * @example
 * const difference: VerifyDifference = {
 *   kind: 'content',
 *   id: '5bd761dcae323e45a93ccfe8',
 *   fields: [{ path: 'items.0.quantity', kind: 'value' }],
 * };
 */
export interface VerifyDifference {
  readonly kind: DifferenceKind;
  readonly id: string;
  readonly fields?: readonly FieldDifference[];
}

/** A child table's row count against what the source's arrays and maps say it should hold. */
export interface TableCount {
  readonly table: string;
  readonly expected: number;
  readonly actual: number;
}

/**
 * The verdict for one collection.
 *
 * @example
 * declare const result: VerifyResult;
 * for (const c of result.collections) console.log(c.collection, c.matched, c.missing, c.extra, c.content);
 */
export interface CollectionVerifyResult {
  readonly collection: string;
  readonly level: VerifyLevel;
  /** Documents in the source, unreadable ones included. */
  readonly sourceCount: number;
  /** Root rows in the target. */
  readonly targetCount: number;
  /** Unresolved rows in `ferry.rejects` for this collection and schema. */
  readonly rejected: number;
  /** Documents compared one by one (all non-rejected ones; a sample at `sample` level; 0 at `count`). */
  readonly compared: number;
  readonly matched: number;
  readonly missing: number;
  readonly extra: number;
  readonly content: number;
  /** `sourceCount === targetCount + rejected`. */
  readonly countsAgree: boolean;
  /** At `count` level: every child table. */
  readonly tables?: readonly TableCount[];
  /** Hash buckets compared, and how many of them disagreed. */
  readonly buckets?: { readonly total: number; readonly mismatched: number };
  /** When the source was a Ferry export with its manifest: how the manifest was used. */
  readonly export?: ExportComparison;
  /** The first `maxDifferences` differences, in the order found. */
  readonly differences: readonly VerifyDifference[];
  /** More differences exist than are listed. */
  readonly truncated: boolean;
  readonly ok: boolean;
  readonly seconds: number;
}

/**
 * How a collection of a Ferry export was compared:
 * - `compared: 'manifest'`: the target's buckets against the manifest's sums, the exported
 *   documents read only to name the differences;
 * - `compared: 'reread'`: every exported document read and hashed again (asked for, or
 *   because `fileChanged`: the file's size or SHA-256 is not the one recorded at export).
 * `manifestAgrees` is false when the manifest's sums disagree with its own, unchanged file.
 *
 * @example
 * const how: ExportComparison = { file: 'backup/shop.archive', compared: 'manifest', fileChanged: false, manifestAgrees: true };
 */
export interface ExportComparison {
  readonly file: string;
  readonly compared: 'manifest' | 'reread';
  readonly fileChanged: boolean;
  readonly manifestAgrees: boolean;
}

/** A reconciliation check from the config: a MongoDB aggregation and a SQL query that must agree. */
export interface ReconcileResult {
  readonly name: string;
  readonly status: 'ok' | 'mismatch' | 'skipped';
  readonly message: string;
  readonly sourceRows?: number;
  readonly targetRows?: number;
}

/** Whether a source index has a PostgreSQL equivalent. */
export interface IndexParity {
  readonly collection: string;
  readonly index: string;
  readonly status: 'ok' | 'warning';
  readonly message: string;
}

/**
 * What a run proves (DESIGN.md invariant 2):
 * - `complete`: every source document matched;
 * - `incomplete`: nothing differs, but rejected documents are accounted for and not loaded;
 * - `mismatch`: a document differs, is missing or extra, or a reconciliation check failed.
 *
 * @example
 * declare const result: VerifyResult;
 * const verdict: VerifyVerdict = result.verdict; // 'complete' | 'incomplete' | 'mismatch'
 */
export type VerifyVerdict = 'complete' | 'incomplete' | 'mismatch';

/**
 * The verdict of a whole run.
 *
 * @example
 * declare const source: Source;
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const result = await verify({ source, db, plan });
 * console.log(result.ok, result.level, result.seconds);
 */
export interface VerifyResult {
  /** The `ferry.verify_runs` id, when the run was recorded. */
  readonly runId?: number;
  readonly level: VerifyLevel;
  readonly schema: string;
  readonly fraction?: number;
  /** `sample` level: the seed that picked the sample; pass it again to repeat the sample. */
  readonly seed?: number;
  readonly collections: readonly CollectionVerifyResult[];
  readonly reconciliation: readonly ReconcileResult[];
  readonly indexes: readonly IndexParity[];
  readonly verdict: VerifyVerdict;
  /** Open rejects over the verified collections: accounted for, not loaded. */
  readonly rejected: number;
  /** The caller accepted rejected documents (`--accept-rejects`). */
  readonly acceptRejects: boolean;
  /** `complete`, or `incomplete` with the rejects accepted: the exit code is 0. */
  readonly ok: boolean;
  readonly seconds: number;
}
