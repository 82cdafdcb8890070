import type { Plan, PlanInput } from '../../../../src/mapping/model.js';
import type { TransformRegistry } from '../../../../src/mapping/transforms.js';
import { parsePlan } from '../../../../src/mapping/validate-plan.js';

type TableInput = PlanInput['collections'][number]['tables'][number];
type ColumnInput = TableInput['columns'][number];

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

/** A one-collection plan input. */
export function planInput(collection: string, tables: TableInput[]): PlanInput {
  return { version: 1, collections: [{ name: collection, tables }] };
}

/** A validated one-collection plan. */
export function onePlan(collection: string, tables: TableInput[], transforms?: TransformRegistry): Plan {
  return parsePlan(planInput(collection, tables), transforms ? { transforms } : {});
}
