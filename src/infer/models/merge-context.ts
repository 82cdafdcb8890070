import type { ColumnPlan, DiscriminatorPlan, ParentLink, SourceIndexPlan } from '../../mapping/model.js';
import { SOURCE_TYPES, type SourceType } from '../../mapping/pg-types.js';
import { ANY_KEY, ELEMENT, formatPath } from '../field-path.js';
import type { Decision, ReportWarning } from '../report.js';
import type { CollectionSnapshot, FieldSnapshot, InferenceSnapshot } from '../snapshot.js';
import type { ModelObserver } from './model-observations.js';
import type { ModelField, ModelSchema } from './model-schema.js';

/** A plan table while the models are merged in: its arrays may change. */
export interface DraftTable {
  readonly name: string;
  readonly parent?: ParentLink;
  columns: ColumnPlan[];
  discriminators?: DiscriminatorPlan[];
}

export interface DraftCollection {
  readonly name: string;
  readonly tables: DraftTable[];
  indexes?: SourceIndexPlan[];
}

/** Where a collection's `_id` lives, so a model's `ref` can point at it. */
export interface IdTarget {
  readonly table: string;
  readonly column: string;
  readonly pgType: string;
}

/** Everything merging one collection's model needs, and what it changes. */
export interface MergeContext {
  readonly collection: DraftCollection;
  readonly snapshot: CollectionSnapshot;
  readonly inference: InferenceSnapshot;
  readonly model: ModelSchema;
  readonly modelsByName: ReadonlyMap<string, ModelSchema>;
  readonly ids: ReadonlyMap<string, IdTarget>;
  readonly observed: ModelObserver;
  decisions: Decision[];
  readonly warnings: ReportWarning[];
}

/** How a Mongoose type is stored when only the model speaks, and which data types agree with it. */
export interface ModelTypeRule {
  readonly pgType: string;
  readonly sourceType: SourceType;
  readonly agrees: readonly SourceType[];
}

const NUMBERS: readonly SourceType[] = ['int', 'long', 'double', 'number'];

/** Mongoose types by `instance`. A type not listed (a custom one) is treated as Mixed. */
export const MODEL_TYPES: Readonly<Record<string, ModelTypeRule>> = {
  String: { pgType: 'text', sourceType: 'string', agrees: ['string'] },
  // Mongoose stores a Number as an int32 when it is one and a double otherwise.
  Number: { pgType: 'double precision', sourceType: 'number', agrees: NUMBERS },
  Int32: { pgType: 'integer', sourceType: 'int', agrees: ['int'] },
  Double: { pgType: 'double precision', sourceType: 'double', agrees: NUMBERS },
  BigInt: { pgType: 'bigint', sourceType: 'long', agrees: ['int', 'long', 'number'] },
  Decimal128: { pgType: 'numeric', sourceType: 'decimal', agrees: ['decimal'] },
  Date: { pgType: 'timestamptz', sourceType: 'date', agrees: ['date'] },
  Boolean: { pgType: 'boolean', sourceType: 'bool', agrees: ['bool'] },
  ObjectId: { pgType: 'uuid', sourceType: 'objectId', agrees: ['objectId'] },
  Buffer: { pgType: 'bytea', sourceType: 'binData', agrees: ['binData'] },
  UUID: { pgType: 'jsonb', sourceType: 'any', agrees: ['binData', 'any'] },
  // Mixed takes whatever the data holds.
  Mixed: { pgType: 'jsonb', sourceType: 'any', agrees: SOURCE_TYPES },
};

export function typeRule(type: string): ModelTypeRule {
  return MODEL_TYPES[type] ?? MODEL_TYPES.Mixed!;
}

/** A table of the collection and the column path inside its element for a model path, if the plan has one. */
export function locate(
  collection: DraftCollection,
  path: readonly string[],
): { table: DraftTable; rel: string[] } | undefined {
  let table = collection.tables.find((t) => t.parent === undefined);
  let rel: string[] = [];
  for (const segment of path) {
    if (!table) return undefined;
    if (segment === ELEMENT || segment === ANY_KEY) {
      const current: DraftTable = table;
      table = collection.tables.find((t) => t.parent?.table === current.name && samePath(t.parent.path, rel));
      rel = [];
    } else rel.push(segment);
  }
  return table ? { table, rel } : undefined;
}

export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** The statistics of a model path, when the data had it. */
export function dataField(context: MergeContext, path: readonly string[]): FieldSnapshot | undefined {
  const name = formatPath(path);
  return context.snapshot.fields.find((f) => f.name === name);
}

/** Values the data holds at a path: non-null occurrences. */
export function valuesAt(field: FieldSnapshot | undefined): number {
  return field ? field.occurrences - field.nulls : 0;
}

/** Index of the decision of a column (or a discriminator, by one of its columns). */
export function decisionOf(context: MergeContext, table: string, column: string): number {
  return context.decisions.findIndex(
    (d) =>
      d.table === table &&
      (d.column === column || (d.rule === 'polymorphic' && d.column?.split(', ').includes(column))),
  );
}

/** Update a decision in place: who decided, and what the model said about the field. */
export function note(
  context: MergeContext,
  index: number,
  decidedBy: NonNullable<Decision['decidedBy']>,
  says: readonly string[],
  changes: Partial<Decision> = {},
): void {
  const decision = context.decisions[index];
  if (!decision) return;
  context.decisions[index] = {
    ...decision,
    ...changes,
    decidedBy,
    ...(says.length > 0 ? { model: says.join('; ') } : {}),
  };
}

export function warnModel(
  context: MergeContext,
  code: ReportWarning['code'],
  field: Pick<ModelField, 'path'>,
  message: string,
): void {
  context.warnings.push({ code, collection: context.collection.name, path: formatPath(field.path), message });
}

/** The column names a table already uses, structural ones included. */
export function takenNames(table: DraftTable): Set<string> {
  return new Set<string>([
    '_extra',
    ...(table.parent ? [...table.parent.columns, table.parent.ordinal] : []),
    ...table.columns.map((c) => c.name),
    ...(table.discriminators ?? []).flatMap((d) => [d.columns.kind, d.columns.id, d.columns.ref]),
  ]);
}
