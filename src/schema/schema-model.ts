/**
 * The target schema as data: what the plan asks PostgreSQL to hold, independent of any one
 * target schema name. It is built from a mapping plan (build-schema.ts), compiled to DDL
 * statements (statements.ts), stored as the migrations snapshot, diffed against an older
 * one (diff.ts), and compared with a live catalog (drift.ts). Keeping one model for all
 * four is what lets "the plan changed" and "the database changed" be the same comparison.
 */

/** One column as PostgreSQL should have it. `pgType` is spelled as in the plan (`timestamptz`). */
export interface ColumnDef {
  readonly name: string;
  readonly pgType: string;
  readonly nullable: boolean;
  /** The column's name before a rename declared in the mapping (`renamedFrom`). */
  readonly renamedFrom?: string;
}

/** A table with its primary key (created with the table: every load needs it). */
export interface TableDef {
  readonly name: string;
  /** The source collection, for comments and messages. */
  readonly collection: string;
  readonly columns: readonly ColumnDef[];
  readonly primaryKey: { readonly name: string; readonly columns: readonly string[] };
}

/**
 * A foreign key. `kind: 'parent'` links a child table to its parent; `kind: 'reference'`
 * comes from a column's `references`. Both are created after the load (phases.ts).
 */
export interface ForeignKeyDef {
  readonly name: string;
  readonly table: string;
  readonly columns: readonly string[];
  readonly refTable: string;
  readonly refColumns: readonly string[];
  readonly onDelete: 'cascade' | 'no action';
  readonly kind: 'parent' | 'reference';
  /** True when the key closes a cycle (self-reference, A↔B): no load order satisfies it. */
  readonly breaksCycle: boolean;
}

export interface CheckDef {
  readonly name: string;
  readonly table: string;
  /** A boolean SQL expression over quoted column names, schema-independent. */
  readonly expression: string;
}

/** One key part of an index: a column with its direction, or an expression (a text search vector). */
export type IndexKey =
  | { readonly kind: 'column'; readonly column: string; readonly descending: boolean }
  | { readonly kind: 'expression'; readonly sql: string };

export interface IndexDef {
  readonly name: string;
  readonly table: string;
  readonly method: 'btree' | 'gin';
  readonly keys: readonly IndexKey[];
  readonly unique: boolean;
  /** A predicate over quoted column names, for partial and sparse indexes. */
  readonly where?: string;
  /** The MongoDB index it came from, for messages. */
  readonly source: string;
}

/**
 * A MongoDB TTL index as a cleanup rule: delete rows whose `column` is older than `seconds`.
 *
 * @example
 * declare const plan: Plan;
 * for (const rule of buildSchema(plan).ttl) console.log(`${rule.table}: delete after ${rule.seconds}s of ${rule.column}`);
 */
export interface TtlRule {
  readonly table: string;
  readonly column: string;
  readonly seconds: number;
  /** The TTL index's partial filter as a predicate over quoted columns: only matching rows expire. */
  readonly where?: string;
  readonly source: string;
}

/**
 * A table of an append-only collection (the mapping's `appendOnly`): a row trigger refuses
 * every UPDATE and DELETE on it with SQLSTATE `FERAO`. TRUNCATE stays allowed: it is an
 * administrator's reload (`ferry backfill --force`), never an application's write.
 *
 * @example
 * declare const plan: Plan;
 * for (const guard of buildSchema(plan).appendOnly) console.log(`${guard.table} refuses UPDATE and DELETE`);
 */
export interface AppendOnlyGuard {
  /** The trigger's name (unique per table). */
  readonly name: string;
  readonly table: string;
  readonly collection: string;
}

/**
 * A capture trigger (src/runtime/outbox): after each row `table` inserts, updates or deletes,
 * the capture function of state step 19 records the entity the row belongs to
 * in `ferry.outbox`, in the writing transaction, when the collection's domain is in
 * `pg_primary`. Every mapped table has one per event; `keyColumn` holds the root entity's key
 * (the primary key in the root table, the first parent column in a child table).
 *
 * @example
 * declare const plan: Plan;
 * buildSchema(plan).captureTriggers.filter((t) => t.table === 'orders_items')
 * // [{ name: 'ferry_capture_insert', table: 'orders_items', collection: 'orders', keyColumn: 'parent_id', event: 'insert' }, …]
 */
export interface CaptureTriggerDef {
  /** Unique per table (PostgreSQL names triggers per table): `ferry_capture_<event>`. */
  readonly name: string;
  readonly table: string;
  readonly collection: string;
  readonly keyColumn: string;
  readonly event: 'insert' | 'update' | 'delete';
}

/**
 * Something in the plan that has no faithful PostgreSQL equivalent; never dropped silently.
 *
 * @example
 * declare const plan: Plan;
 * for (const w of buildSchema(plan).warnings) console.warn(w.collection, w.item, w.code);
 */
export interface SchemaWarning {
  readonly collection: string;
  /** The MongoDB index (or other item) concerned. */
  readonly item: string;
  readonly code:
    | 'INDEX_UNSUPPORTED_KIND'
    | 'INDEX_FIELD_UNMAPPED'
    | 'INDEX_FIELD_IN_CHILD_TABLE'
    | 'INDEX_PARTIAL_FILTER_UNSUPPORTED'
    | 'INDEX_TEXT_OPTION_IGNORED'
    | 'INDEX_OPTION_IGNORED'
    | 'INDEX_TTL_NOT_A_DATE';
  readonly message: string;
}

/**
 * The whole target schema. Arrays are in a deterministic order (load order for tables), so
 * two equal plans give byte-identical DDL.
 *
 * @example
 * declare const plan: Plan;
 * const model = buildSchema(plan);
 * model.loadOrder   // ['users', 'orders', 'orders_items', ...]
 */
export interface SchemaModel {
  readonly tables: readonly TableDef[];
  readonly foreignKeys: readonly ForeignKeyDef[];
  readonly checks: readonly CheckDef[];
  readonly indexes: readonly IndexDef[];
  readonly ttl: readonly TtlRule[];
  /** Tables whose rows are never updated or deleted (append-only collections). */
  readonly appendOnly: readonly AppendOnlyGuard[];
  /** The outbox's capture triggers, three per table (see `CaptureTriggerDef`). */
  readonly captureTriggers: readonly CaptureTriggerDef[];
  /** Table names in an order that satisfies every foreign key that does not break a cycle. */
  readonly loadOrder: readonly string[];
  readonly warnings: readonly SchemaWarning[];
}
