import { FerryError } from '../core/errors.js';
import { type ColumnCodec, columnCodec } from './column-codec.js';
import {
  type CollectionPlan,
  type DiscriminatorPlan,
  EXTRA_COLUMN,
  type Plan,
  physicalColumns,
  primaryKey,
  type TablePlan,
} from './model.js';
import { noTransforms, type TransformRegistry } from './transforms.js';

/**
 * A plan turned into the trees `toRows` and `toDoc` walk. Internal: the plan is the public
 * data; this is a cache of it, built once per (plan, transforms) pair.
 *
 * Each table maps an element through a tree of its key paths: an `object` node is a
 * flattened sub-document (or the element itself), a `column` node a column, a `child` node an
 * array or map stored in a child table, a `poly` node one half of a discriminator.
 */
export type ShapeNode = ObjectNode | ColumnNode | ChildNode | PolyNode;

export interface ObjectNode {
  readonly kind: 'object';
  readonly children: Map<string, ShapeNode>;
  /** Discriminators whose id (and kind) fields are keys of this object. */
  readonly groups: CompiledDiscriminator[];
}

export interface ColumnNode {
  readonly kind: 'column';
  readonly codec: ColumnCodec;
}

export interface ChildNode {
  readonly kind: 'child';
  readonly table: CompiledTable;
}

export interface PolyNode {
  readonly kind: 'poly';
  readonly group: CompiledDiscriminator;
}

export interface CompiledDiscriminator {
  readonly plan: DiscriminatorPlan;
  readonly idKey: string;
  readonly kindKey: string | undefined;
}

export interface CompiledTable {
  readonly plan: TablePlan;
  readonly name: string;
  root: ShapeNode;
  /** For a child: its shape and the name of the ordinal column. */
  readonly shape: 'root' | 'array' | 'map';
  readonly parentColumns: readonly string[];
  readonly ordinal: string | undefined;
  /** Primary key column names. */
  readonly key: readonly string[];
  /** The `_id` column of a root table. */
  readonly id: ColumnCodec | undefined;
  readonly codecs: readonly ColumnCodec[];
  readonly discriminators: readonly CompiledDiscriminator[];
  /** Every physical column name, in table order (the names a row must have). */
  readonly columnNames: readonly string[];
  /** Their PostgreSQL types, in the same order. */
  readonly columnTypes: readonly string[];
  /** Every column set to NULL: spreading it is the cheapest way to start a row. */
  readonly emptyRow: Readonly<Record<string, null>>;
  readonly children: CompiledTable[];
}

export interface CompiledCollection {
  readonly name: string;
  readonly root: CompiledTable;
  /** In plan order: parents before children. */
  readonly tables: readonly CompiledTable[];
}

const cache = new WeakMap<Plan, WeakMap<TransformRegistry, Map<string, CompiledCollection>>>();

/** The compiled form of one collection of a plan, cached for the plan object's lifetime. */
export function compiledCollection(
  plan: Plan,
  collection: string,
  transforms: TransformRegistry = noTransforms,
): CompiledCollection {
  let byRegistry = cache.get(plan);
  if (byRegistry === undefined) {
    byRegistry = new WeakMap();
    cache.set(plan, byRegistry);
  }
  let byName = byRegistry.get(transforms);
  if (byName === undefined) {
    byName = new Map(plan.collections.map((c) => [c.name, compileCollection(c, transforms)]));
    byRegistry.set(transforms, byName);
  }
  const compiled = byName.get(collection);
  if (compiled === undefined)
    throw new FerryError(`the mapping plan has no collection "${collection}"`, {
      code: 'MAPPING_UNKNOWN_COLLECTION',
      category: 'usage',
      hint: `the plan maps: ${plan.collections.map((c) => c.name).join(', ') || 'nothing'}`,
    });
  return compiled;
}

function compileCollection(collection: CollectionPlan, transforms: TransformRegistry): CompiledCollection {
  const byName = new Map<string, CompiledTable>();
  const tables = collection.tables.map((table) => {
    const compiled = compileTable(collection, table, transforms);
    byName.set(table.name, compiled);
    return compiled;
  });
  for (const table of tables) {
    const link = table.plan.parent;
    if (link === undefined) continue;
    const parent = byName.get(link.table);
    if (parent === undefined) throw new TypeError(`table ${table.name}: parent ${link.table} not compiled`);
    parent.children.push(table);
    parent.root = insert(parent.root, link.path, { kind: 'child', table });
  }
  const root = tables[0];
  if (root === undefined) throw new TypeError(`collection ${collection.name} has no tables`);
  return { name: collection.name, root, tables };
}

function compileTable(
  collection: CollectionPlan,
  table: TablePlan,
  transforms: TransformRegistry,
): CompiledTable {
  const codecs = table.columns.map((column) => {
    const transform = column.transform === undefined ? undefined : transforms.get(column.transform);
    if (column.transform !== undefined && transform === undefined)
      throw new FerryError(`the plan names transform "${column.transform}", which is not registered`, {
        code: 'MAPPING_TRANSFORM_MISSING',
        category: 'usage',
        where: { collection: collection.name, path: `${table.name}.${column.name}` },
        hint: 'register it with defineTransforms and pass { transforms } to toRows and toDoc',
      });
    return columnCodec(column, transform);
  });
  let root: ShapeNode = emptyObject();
  for (const codec of codecs) root = insert(root, codec.column.path, { kind: 'column', codec });
  const discriminators = (table.discriminators ?? []).map((d) => compileDiscriminator(d));
  for (const group of discriminators) {
    root = insert(root, group.plan.path, { kind: 'poly', group });
    if (group.plan.kindPath !== undefined) root = insert(root, group.plan.kindPath, { kind: 'poly', group });
    const owner = nodeAt(root, group.plan.path.slice(0, -1));
    if (owner?.kind === 'object') owner.groups.push(group);
  }
  const isRoot = table.parent === undefined;
  const physical = physicalColumns(collection, table);
  const columnNames = physical.map((c) => c.name);
  return {
    plan: table,
    name: table.name,
    root,
    shape: table.parent?.shape ?? 'root',
    parentColumns: table.parent?.columns ?? [],
    ordinal: table.parent?.ordinal,
    key: primaryKey(table),
    id: isRoot ? codecs.find((c) => c.column.path.length === 1 && c.column.path[0] === '_id') : undefined,
    codecs,
    discriminators,
    columnNames,
    columnTypes: physical.map((c) => c.pgType),
    emptyRow: Object.fromEntries(columnNames.map((name) => [name, null])),
    children: [],
  };
}

function compileDiscriminator(plan: DiscriminatorPlan): CompiledDiscriminator {
  return {
    plan,
    idKey: plan.path[plan.path.length - 1]!,
    kindKey: plan.kindPath?.[plan.kindPath.length - 1],
  };
}

function emptyObject(): ObjectNode {
  return { kind: 'object', children: new Map(), groups: [] };
}

/** Put `leaf` at `path` under `node`, creating flattened object nodes on the way. */
function insert(node: ShapeNode, path: readonly string[], leaf: ShapeNode): ShapeNode {
  if (path.length === 0) return leaf;
  if (node.kind !== 'object') throw new TypeError(`path ${JSON.stringify(path)} overlaps another mapping`);
  const [head, ...rest] = path as [string, ...string[]];
  const existing = node.children.get(head) ?? emptyObject();
  node.children.set(head, insert(existing, rest, leaf));
  return node;
}

function nodeAt(node: ShapeNode, path: readonly string[]): ShapeNode | undefined {
  let current: ShapeNode | undefined = node;
  for (const key of path) current = current?.kind === 'object' ? current.children.get(key) : undefined;
  return current;
}

export { EXTRA_COLUMN };
