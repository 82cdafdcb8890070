/**
 * The inference report: why the proposed mapping looks the way it does. Every column, child
 * table and `_extra` spill has a decision with its evidence; everything a reviewer should look
 * at twice (a type conflict, a map, a rare field, a polymorphic reference) is also a warning.
 * Data only, so `--json` prints it as is and the terminal view is a rendering of it.
 */

/** Which rule of DESIGN.md "Mapping rules" produced a decision. */
export type DecisionRule =
  | 'id'
  | 'scalar'
  | 'reference'
  | 'polymorphic'
  | 'flatten'
  | 'geojson'
  | 'array-column'
  | 'array-child'
  | 'array-jsonb'
  | 'map-child'
  | 'map-jsonb'
  | 'conflict-jsonb'
  | 'extra';

/** One decision: a field (or a container of fields) and where it goes. */
export interface Decision {
  /** The table the decision places something in. */
  readonly table: string;
  /** The column (or child table, for `array-child`/`map-child`); absent when it goes to `_extra`. */
  readonly column?: string;
  /** The source path, dotted as the statistics print it (`items.[].price`). */
  readonly path: string;
  readonly rule: DecisionRule;
  readonly pgType?: string;
  readonly nullable?: boolean;
  /** What was seen: `5000/5000 present; decimal, max precision 6, max scale 2`. */
  readonly evidence: string;
  /** Why this choice. */
  readonly reason: string;
  /** With `--models`: whether the model, the data or both decided (see `model` for what the model said). */
  readonly decidedBy?: 'data' | 'model' | 'both';
  /** With `--models`: what the model declares for this field and what it changed. */
  readonly model?: string;
}

/** Things a reviewer should look at. Codes are stable; messages are for people. */
export type WarningCode =
  | 'TYPE_CONFLICT'
  | 'MAP_SHAPED'
  | 'RARE_FIELD'
  | 'POLYMORPHIC_REFERENCE'
  | 'AMBIGUOUS_REFERENCE'
  | 'WEAK_REFERENCE'
  | 'DANGLING_REFERENCE'
  | 'SPILLED_TO_EXTRA'
  | 'DATES_OUT_OF_RANGE'
  | 'STRINGS_WITH_NUL'
  | 'DOCUMENTS_ARE_MAPS'
  | 'SAMPLED'
  | 'SOURCE_REJECTS'
  | 'MODEL_TYPE_CONFLICT'
  | 'MODEL_REQUIRED_NOT_IN_DATA'
  | 'MODEL_ENUM_NOT_IN_DATA'
  | 'MODEL_REFERENCE_DANGLING'
  | 'MODEL_REFERENCE_UNKNOWN'
  | 'MODEL_COLLECTION_ABSENT'
  | 'MODEL_FIELD_NOT_MAPPED'
  | 'APPEND_ONLY';

export interface ReportWarning {
  readonly code: WarningCode;
  readonly collection: string;
  readonly path?: string;
  readonly message: string;
}

/** A proposed table in a few words. */
export interface TableSummary {
  readonly name: string;
  /** The parent table, for a child table. */
  readonly parent?: string;
  readonly shape: 'root' | 'array' | 'map';
  /** Physical columns, structural and `_extra` included (never more than the cap). */
  readonly columns: number;
}

export interface CollectionReport {
  readonly name: string;
  readonly documents: number;
  /** False when only a sample was analysed. */
  readonly complete: boolean;
  readonly tables: readonly TableSummary[];
  readonly decisions: readonly Decision[];
  /** With `--models`: the Mongoose model stored in this collection. */
  readonly model?: string;
  /** With `--models`: the indexes (and TTL rules) of the plan, each with who declared it. */
  readonly indexes?: readonly IndexDecision[];
  /**
   * Present when the mapping proposes `appendOnly` (a ledger: see propose-append-only.ts),
   * with what was seen; UPDATE and DELETE on its tables are then refused.
   */
  readonly appendOnly?: { readonly evidence: string; readonly reason: string };
}

/**
 * An index of the plan with its origin: the source's own indexes (`data`), the model's
 * (`model`: `index`, `unique`, `sparse`, `expires`, `schema.index()`), or both.
 *
 * @example
 * const ttl: IndexDecision = { name: 'expiresAt_1', key: { expiresAt: 1 }, ttlSeconds: 0, decidedBy: 'model' };
 */
export interface IndexDecision {
  readonly name: string;
  readonly key: Readonly<Record<string, number | string>>;
  readonly unique?: boolean;
  readonly sparse?: boolean;
  readonly ttlSeconds?: number;
  readonly decidedBy: 'data' | 'model' | 'both';
}

/**
 * Everything `ferry infer` explains, in a stable order (collections by name, decisions in
 * field path order), so the same statistics give the same report byte for byte.
 *
 * @example
 * declare const snapshot: InferenceSnapshot;
 * const { report } = proposeMapping(snapshot);
 * report.warnings.filter((w) => w.code === 'TYPE_CONFLICT').map((w) => w.path);
 */
export interface InferenceReport {
  readonly version: 1;
  readonly maxColumns: number;
  readonly collections: readonly CollectionReport[];
  readonly warnings: readonly ReportWarning[];
  /** With `--models`: the models read, by name, with their collections. */
  readonly models?: readonly { readonly name: string; readonly collection: string }[];
}
