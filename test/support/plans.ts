import type { Plan, PlanInput } from '../../src/mapping/model.js';
import type { TransformRegistry } from '../../src/mapping/transforms.js';
import { parsePlan } from '../../src/mapping/validate-plan.js';

/**
 * The one set of plan builders for tests: a plan spelled out field by field hides what a test
 * is about among `nullable: true`s, and ten copies of the `_id` column drift apart.
 */
export type CollectionInput = PlanInput['collections'][number];
export type TableInput = CollectionInput['tables'][number];
export type ColumnInput = TableInput['columns'][number];

/** A value column; nullable unless said otherwise. */
export function col(
  name: string,
  path: string[],
  pgType: string,
  sourceType: ColumnInput['sourceType'],
  extra: Partial<ColumnInput> = {},
): ColumnInput {
  return { name, path, pgType, sourceType, nullable: true, ...extra };
}

/** The `id uuid` column for ObjectId `_id`s. */
export const objectIdColumn: ColumnInput = {
  name: 'id',
  path: ['_id'],
  pgType: 'uuid',
  sourceType: 'objectId',
  nullable: false,
};

/** A root table. */
export function table(name: string, columns: ColumnInput[], extra: Partial<TableInput> = {}): TableInput {
  return { name, columns, ...extra };
}

/** A child table of `parent` (keyed on `parentColumns`) for the array or map at `path`. */
export function child(
  name: string,
  parent: string,
  path: string[],
  shape: 'array' | 'map',
  columns: ColumnInput[],
  parentColumns: string[] = ['parent_id'],
): TableInput {
  return {
    name,
    parent: {
      table: parent,
      path,
      shape,
      columns: parentColumns,
      ordinal: shape === 'array' ? 'idx' : 'key',
    },
    columns,
  };
}

/** One collection of a plan, with its MongoDB indexes if any. */
export function collection(
  name: string,
  tables: TableInput[],
  indexes?: CollectionInput['indexes'],
): CollectionInput {
  return indexes === undefined ? { name, tables } : { name, tables, indexes };
}

/** A plan input of several collections, in load order as written. */
export function planOf(...collections: CollectionInput[]): PlanInput {
  return { version: 1, collections };
}

/** A one-collection plan input. */
export function planInput(name: string, tables: TableInput[]): PlanInput {
  return planOf(collection(name, tables));
}

/** A validated one-collection plan. */
export function onePlan(name: string, tables: TableInput[], transforms?: TransformRegistry): Plan {
  return parsePlan(planInput(name, tables), transforms ? { transforms } : {});
}
