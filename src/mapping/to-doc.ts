import type { Document } from 'bson';
import { FerryError } from '../core/errors.js';
import { decodeColumn } from './column-codec.js';
import {
  type CompiledDiscriminator,
  type CompiledTable,
  compiledCollection,
  type ObjectNode,
  type ShapeNode,
} from './compile.js';
import { uuidToObjectId } from './identity.js';
import { decodeJson, defineKey, escapeKey, unescapeKey } from './json-value.js';
import { EXTRA_COLUMN, type Plan } from './model.js';
import type { DocumentRows, RowValue, RowValues } from './row-values.js';
import type { MappingOptions } from './to-rows.js';

/** Marks "no value here" while rebuilding: distinct from `null`, which is a value. */
const MISSING: unique symbol = Symbol('missing');
type Rebuilt = unknown | typeof MISSING;

/**
 * The one inverse of `toRows` (DESIGN.md invariant 1): the rows of one document back to the
 * document. `rows` holds, by table name, the document's root row (exactly one) and its rows
 * in every child table (any order; arrays are ordered by `idx`). Row values are in the
 * representation of row-values.ts: exactly what `toRows` produced, or what the `pg` driver
 * returns for those rows when configured with `ferryTypes`.
 *
 * Numbers come back as the column's declared BSON type; see `decodeColumn`. Throws
 * `MAPPING_ROWS_INVALID` for rows Ferry could not have written (a missing column, a gap in
 * `idx`, two root rows): those point at a damaged table, not at a document to reject.
 *
 * @example
 * import type pg from 'pg';
 * declare const plan: Plan;
 * declare const client: pg.Client; // with `types: ferryTypes`
 * declare const id: string;
 * const { rows } = await client.query('select * from "orders" where id = $1', [id]);
 * const items = await client.query('select * from "orders_items" where parent_id = $1', [id]);
 * const doc = toDoc(plan, 'orders', new Map([['orders', rows], ['orders_items', items.rows]]));
 */
export function toDoc(
  plan: Plan,
  collection: string,
  rows: DocumentRows,
  options: MappingOptions = {},
): Document {
  const compiled = compiledCollection(plan, collection, options.transforms);
  const roots = rows.get(compiled.root.name) ?? [];
  if (roots.length !== 1)
    throw invalid(collection, `expected exactly one row in ${compiled.root.name}, got ${roots.length}`);
  const index = new ChildIndex(rows, collection);
  return rebuildElement(compiled.root, roots[0]!, index, collection) as Document;
}

/** Child rows by table, then by their parent key, so each element finds its own. */
class ChildIndex {
  private readonly byTable = new Map<string, Map<string, RowValues[]>>();
  constructor(
    private readonly rows: DocumentRows,
    private readonly collection: string,
  ) {}

  find(table: CompiledTable, parentKey: readonly RowValue[]): readonly RowValues[] {
    let groups = this.byTable.get(table.name);
    if (groups === undefined) {
      groups = new Map();
      for (const row of this.rows.get(table.name) ?? []) {
        const key = keyString(table.parentColumns.map((c) => cell(row, c, table, this.collection)));
        const group = groups.get(key);
        if (group === undefined) groups.set(key, [row]);
        else group.push(row);
      }
      this.byTable.set(table.name, groups);
    }
    return groups.get(keyString(parentKey)) ?? [];
  }
}

/**
 * A Map key for a parent key. NUL separates parts: no key part can contain it (text keys
 * with NUL are rejected by toRows), and within one table each part has one JS type.
 */
function keyString(values: readonly RowValue[]): string {
  if (values.length === 1) return part(values[0]!);
  let out = part(values[0]!);
  for (let i = 1; i < values.length; i++) out += `\u0000${part(values[i]!)}`;
  return out;
}

function part(value: RowValue): string {
  return Buffer.isBuffer(value) ? value.toString('hex') : String(value);
}

function rebuildElement(
  table: CompiledTable,
  row: RowValues,
  index: ChildIndex,
  collection: string,
): unknown {
  const extraText = cell(row, EXTRA_COLUMN, table, collection);
  const extra: unknown = extraText === null ? undefined : JSON.parse(String(extraText));
  const key = table.key.map((k) => cell(row, k, table, collection));
  const context: RebuildContext = { table, row, key, index, collection };
  const value =
    table.root.kind === 'object' && (extra === undefined || isResidueObject(extra))
      ? rebuildObject(table.root, extra as Record<string, unknown> | undefined, context, true)
      : rebuildNode(table.root, extra, context);
  if (value === MISSING) throw invalid(collection, `a row of ${table.name} holds no value at all`);
  return value;
}

interface RebuildContext {
  readonly table: CompiledTable;
  readonly row: RowValues;
  readonly key: readonly RowValue[];
  readonly index: ChildIndex;
  readonly collection: string;
}

/** A residue object to merge (a document's keys), as opposed to a whole value in Extended JSON. */
function isResidueObject(json: unknown): boolean {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
  for (const k in json) if (k.charCodeAt(0) === 0x24) return false;
  return true;
}

/** `residue`: what `_extra` holds at this node's key (undefined: nothing). */
function rebuildNode(node: ShapeNode, residue: unknown, context: RebuildContext): Rebuilt {
  switch (node.kind) {
    case 'object':
      if (residue !== undefined && !isResidueObject(residue)) return decodeJson(residue);
      return rebuildObject(node, residue as Record<string, unknown> | undefined, context, false);
    case 'column': {
      if (residue !== undefined) return decodeJson(residue);
      const raw = cell(context.row, node.codec.column.name, context.table, context.collection);
      return raw === null ? MISSING : decodeColumn(node.codec, raw);
    }
    case 'child':
      if (residue !== undefined) return decodeJson(residue);
      return rebuildChildren(node.table, context);
    case 'poly':
      // Taken by the discriminator (filled by rebuildObject) or else in `_extra`.
      return residue === undefined ? MISSING : decodeJson(residue);
  }
}

function rebuildObject(
  node: ObjectNode,
  residue: Record<string, unknown> | undefined,
  context: RebuildContext,
  isElement: boolean,
): Rebuilt {
  const out: Record<string, unknown> = {};
  let present = residue !== undefined || isElement;
  for (const [key, child] of node.children) {
    const escaped = escapeKey(key);
    const sub = residue !== undefined && Object.hasOwn(residue, escaped) ? residue[escaped] : undefined;
    const value = rebuildNode(child, sub, context);
    if (value === MISSING) continue;
    defineKey(out, key, value);
    present = true;
  }
  for (const group of node.groups) present = rebuildDiscriminator(group, out, context) || present;
  if (residue !== undefined) {
    for (const escaped of Object.keys(residue)) {
      const key = unescapeKey(escaped);
      if (node.children.has(key)) continue;
      defineKey(out, key, decodeJson(residue[escaped]));
    }
  }
  return present ? out : MISSING;
}

function rebuildDiscriminator(
  group: CompiledDiscriminator,
  out: Record<string, unknown>,
  context: RebuildContext,
): boolean {
  const { columns } = group.plan;
  const kind = cell(context.row, columns.kind, context.table, context.collection);
  if (kind === null) return false;
  const id = cell(context.row, columns.id, context.table, context.collection);
  const ref = cell(context.row, columns.ref, context.table, context.collection);
  defineKey(out, group.idKey, id !== null ? uuidToObjectId(String(id)) : String(ref));
  if (group.kindKey !== undefined) defineKey(out, group.kindKey, String(kind));
  return true;
}

function rebuildChildren(table: CompiledTable, context: RebuildContext): Rebuilt {
  const rows = context.index.find(table, context.key);
  if (rows.length === 0) return MISSING;
  const ordinal = table.ordinal!;
  if (table.shape === 'map') {
    const out: Record<string, unknown> = {};
    for (const row of rows)
      defineKey(
        out,
        String(cell(row, ordinal, table, context.collection)),
        rebuildElement(table, row, context.index, context.collection),
      );
    return out;
  }
  const items: unknown[] = new Array(rows.length);
  const filled = new Array<boolean>(rows.length).fill(false);
  for (const row of rows) {
    const idx = Number(cell(row, ordinal, table, context.collection));
    if (!Number.isInteger(idx) || idx < 0 || idx >= rows.length || filled[idx])
      throw invalid(context.collection, `${table.name} has idx ${idx} out of sequence for one parent`);
    filled[idx] = true;
    items[idx] = rebuildElement(table, row, context.index, context.collection);
  }
  return items;
}

function cell(row: RowValues, column: string, table: CompiledTable, collection: string): RowValue {
  const value = row[column];
  if (value === undefined) throw invalid(collection, `a row of ${table.name} has no column "${column}"`);
  return value;
}

function invalid(collection: string, message: string): FerryError {
  return new FerryError(`cannot rebuild a document from its rows: ${message}`, {
    code: 'MAPPING_ROWS_INVALID',
    category: 'problem',
    where: { collection },
    hint: 'select every column of every table of the collection; rows must be as Ferry wrote them',
  });
}
