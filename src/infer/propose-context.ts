import type { ColumnPlan, DiscriminatorPlan, ParentLink } from '../mapping/model.js';
import { columnName, uniqueName } from '../mapping/names.js';
import type { FieldPath } from './field-path.js';
import type { TypeChoice } from './propose-types.js';
import type { ReferenceFinding } from './references.js';
import type { Decision, ReportWarning } from './report.js';
import type { CollectionSnapshot, FieldSnapshot } from './snapshot.js';

/**
 * The state a collection's proposal builds up (draft tables, decisions, warnings) and the
 * one way a column is added, shared by the table walk and the reference rules.
 */

/** A field present in fewer than this share of its containers is "rare" in the report. */
export const RARE_PRESENCE = 0.05;

/** A table while it is being proposed: mutable until the collection is done. */
export interface DraftTable {
  readonly name: string;
  readonly parent?: ParentLink;
  readonly columns: ColumnPlan[];
  readonly discriminators: DiscriminatorPlan[];
  /** How many values each column/discriminator would hold, for spilling the rarest first. */
  readonly present: Map<string, number>;
  /** Index into the context's decisions of each column (or of a discriminator, by its id column). */
  readonly decisions: Map<string, number>;
}

/** Where a collection's `_id` column is, so references can point at it. */
export interface IdTarget {
  readonly table: string;
  readonly column: string;
  readonly pgType: string;
}

/** Shared state of one collection's proposal. */
export interface TableContext {
  readonly collection: CollectionSnapshot;
  readonly fields: ReadonlyMap<string, FieldSnapshot>;
  readonly children: ReadonlyMap<string, readonly FieldSnapshot[]>;
  readonly references: ReadonlyMap<string, ReferenceFinding>;
  readonly ids: ReadonlyMap<string, IdTarget>;
  /** Table names of the whole plan: PostgreSQL table names share one schema. */
  readonly tableNames: Set<string>;
  readonly tables: DraftTable[];
  /** Every decision, in walk order (which is field path order). */
  readonly decisions: Decision[];
  readonly warnings: ReportWarning[];
}

/** The key of a path in the lookup maps (segments cannot contain NUL: keys with NUL are rejected). */
export function pathKey(path: FieldPath): string {
  return path.join('\u0000');
}

/** The real object key of a snapshot segment (undo `keySegment`'s escape). */
export function realKey(segment: string): string {
  return segment.startsWith('\\') ? segment.slice(1) : segment;
}

/** What a table maps: its element's path in the statistics and how many elements there are. */
export interface ElementScope {
  readonly table: DraftTable;
  readonly taken: Set<string>;
  readonly elementPath: FieldPath;
  readonly elementCount: number;
}

export interface ColumnSpec {
  readonly choice: TypeChoice;
  readonly rule: Decision['rule'];
  readonly reason: string;
  readonly references?: { readonly table: string; readonly column: string };
  /** The column's path inside the element; `[]` for a child table of scalars. */
  readonly name?: string;
}

/** Add a column and its decision. Values it takes: all non-null values when the choice is exact. */
export function addColumn(
  context: TableContext,
  scope: ElementScope,
  field: FieldSnapshot,
  rel: readonly string[],
  presence: string,
  spec: ColumnSpec,
): void {
  const name = uniqueName(spec.name ?? columnName(rel), scope.taken);
  scope.taken.add(name);
  const values = field.occurrences - field.nulls;
  const present = rel.length === 0 ? field.occurrences : field.present;
  // NOT NULL only when every element had a value the column takes, and every element was seen:
  // a wrong guess would reject documents at backfill, a nullable column costs nothing.
  const nullable = !(
    context.collection.complete &&
    spec.choice.exact &&
    spec.choice.pgType !== 'jsonb' &&
    field.nulls === 0 &&
    values === scope.elementCount &&
    (rel.length > 0 || present === scope.elementCount)
  );
  const column: ColumnPlan = {
    name,
    path: [...rel],
    pgType: spec.choice.pgType,
    sourceType: spec.choice.sourceType,
    nullable,
    ...(spec.references ? { references: { ...spec.references } } : {}),
  };
  scope.table.columns.push(column);
  scope.table.present.set(name, values);
  scope.table.decisions.set(name, context.decisions.length);
  context.decisions.push({
    table: scope.table.name,
    column: name,
    path: field.name,
    rule: spec.rule,
    pgType: column.pgType,
    nullable,
    evidence: `${presence}; ${spec.choice.evidence}`,
    reason: spec.reason,
  });
}

/** `5000/5000 present`, relative to the rows of the table the field lands in. */
export function presenceText(field: FieldSnapshot, scope: ElementScope): string {
  const present = field.path.length === scope.elementPath.length ? field.occurrences : field.present;
  const nulls = field.nulls > 0 ? `, ${field.nulls} null` : '';
  return `${present}/${scope.elementCount} present${nulls}`;
}

/** Record a warning for a field. */
export function warn(
  context: TableContext,
  code: ReportWarning['code'],
  field: FieldSnapshot,
  message: string,
): void {
  context.warnings.push({ code, collection: context.collection.name, path: field.name, message });
}
