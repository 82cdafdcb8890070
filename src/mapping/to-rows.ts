import type { Document, ObjectId } from 'bson';
import { encodeColumn, MISMATCH } from './column-codec.js';
import {
  type CompiledCollection,
  type CompiledDiscriminator,
  type CompiledTable,
  compiledCollection,
  type ObjectNode,
  type ShapeNode,
} from './compile.js';
import { objectIdToUuid } from './identity.js';
import { defineKey, encodeJson, escapeKey, type JsonValue, jsonText } from './json-value.js';
import { type DiscriminatorPlan, EXTRA_COLUMN, type Plan } from './model.js';
import { checkKey, checkString, type MappingReject, RejectSignal, rejectAt } from './reject.js';
import type { DocumentRows, RowValue, RowValues } from './row-values.js';
import type { TransformRegistry } from './transforms.js';

/**
 * What `toRows` gives: the rows of every table of the collection, or a reject.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const plan: Plan;
 * declare const doc: Document;
 * const result: ToRowsResult = toRows(plan, 'orders', doc);
 * if (result.ok) console.log(result.rows.get('orders'));
 * else console.log(result.reject.reason);
 */
export type ToRowsResult =
  | { readonly ok: true; readonly rows: DocumentRows }
  | { readonly ok: false; readonly reject: MappingReject };

/**
 * What `toRows` and `toDoc` need besides the plan: the user's transforms.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const plan: Plan;
 * declare const doc: Document;
 * declare const cents: Transform;
 * const result = toRows(plan, 'orders', doc, { transforms: defineTransforms({ cents }) });
 */
export interface MappingOptions {
  /** The transforms the plan names (see transforms.ts). */
  readonly transforms?: TransformRegistry;
}

/**
 * One document to the rows that store it: one root row, plus rows in child tables. Never
 * throws on bad data and never alters it: what the columns cannot hold exactly goes to the
 * table's `_extra`, and what PostgreSQL cannot hold at all is a reject with a path and reason.
 *
 * Encodings (they are what make `toDoc` the exact inverse):
 * - **Missing vs null vs undefined.** A missing field is a NULL column. An explicit `null` is a
 *   NULL column *and* `null` under its key in `_extra` (`{"middle_name": null}`); a BSON
 *   `undefined` (a key whose value is `undefined`) likewise, as `{"$undefined": true}`. All three survive.
 * - **Type mismatch.** A value that is not of the column's declared BSON type, or that the
 *   PostgreSQL type cannot hold exactly (a string in a numeric column, a Long in a `double
 *   precision` column beyond 2^53, 0.1 as a double in `numeric`), leaves the column NULL and
 *   goes whole, in Extended JSON, under its key in `_extra`. Never coerced.
 * - **Flattened objects.** `_extra` mirrors the document: a field inside a flattened object
 *   that has no column goes to `_extra` nested under the object's key. An object that is
 *   present but leaves every column NULL (`address: {}`) is recorded as `{"address": {}}`.
 *   A non-object where an object was expected (`address: "n/a"`) goes whole.
 * - **Empty containers.** An empty array or map mapped to a child table has no rows, so it
 *   goes to `_extra` whole (`{"items": []}`); missing leaves no trace anywhere.
 * - Keys with `.`, `$` or spaces are kept verbatim (`$`/`~`-leading keys are escaped in JSON,
 *   see json-value.ts); ObjectIds become uuids via `objectIdToUuid`.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * declare const plan: Plan;
 * declare function writeReject(doc: Document, reject: MappingReject): Promise<void>;
 * declare function copy(table: string, rows: readonly RowValues[]): void;
 * const result = toRows(plan, 'orders', doc);
 * if (!result.ok) await writeReject(doc, result.reject);           // { code, path, reason }
 * else for (const [table, rows] of result.rows) copy(table, rows);
 */
export function toRows(
  plan: Plan,
  collection: string,
  doc: Document,
  options: MappingOptions = {},
): ToRowsResult {
  const compiled = compiledCollection(plan, collection, options.transforms);
  try {
    return { ok: true, rows: mapDocument(compiled, doc) };
  } catch (error) {
    if (error instanceof RejectSignal) return { ok: false, reject: error.reject };
    throw error;
  }
}

function mapDocument(collection: CompiledCollection, doc: unknown): DocumentRows {
  if (!isPlainObject(doc)) rejectAt('NOT_A_DOCUMENT', [], 'a document must be a plain object');
  const out = new Map<string, RowValues[]>();
  for (const table of collection.tables) out.set(table.name, []);
  const root = collection.root;
  const idCodec = root.id!;
  const id = (doc as Document)._id;
  if (id === undefined) rejectAt('ID_MISSING', ['_id'], 'the document has no _id');
  const idValue = encodeColumn(idCodec, id, ['_id']);
  if (idValue === MISMATCH || idValue === null)
    rejectAt(
      'ID_TYPE_MISMATCH',
      ['_id'],
      `_id is not of the id column's type (${idCodec.column.sourceType}, stored as ${idCodec.column.pgType})`,
    );
  writeElement(root, doc, [idValue], [], out, []);
  return out;
}

/**
 * Write the row of one element (the document, an array element, a map entry's value) and,
 * recursively, its children's rows. `key` is this row's primary key; `structural` the
 * parent-key and ordinal values that lead the row.
 */
function writeElement(
  table: CompiledTable,
  element: unknown,
  key: readonly RowValue[],
  structural: readonly RowValue[],
  out: Map<string, RowValues[]>,
  path: (string | number)[],
): void {
  const row: Record<string, RowValue> = { ...table.emptyRow };
  structural.forEach((value, i) => {
    row[table.parentColumns[i] ?? table.ordinal!] = value;
  });
  const context: WalkContext = { table, row, key, out };
  const residue =
    table.root.kind === 'object' && isPlainObject(element)
      ? walkObject(table.root, element as Document, path, context, true)
      : walkNode(table.root, element, path, context).residue;
  row[EXTRA_COLUMN] = residue === undefined ? null : jsonText(residue);
  for (const codec of table.codecs) {
    if (!codec.column.nullable && row[codec.column.name] === null)
      rejectAt(
        'REQUIRED_VALUE_MISSING',
        [...path, ...codec.column.path],
        `column ${table.name}.${codec.column.name} is NOT NULL, and the document has no ${codec.column.sourceType} value here`,
      );
  }
  out.get(table.name)!.push(row);
}

interface WalkContext {
  readonly table: CompiledTable;
  readonly row: Record<string, RowValue>;
  readonly key: readonly RowValue[];
  readonly out: Map<string, RowValues[]>;
}

/** What a subtree left for `_extra` (undefined: nothing) and whether it left any trace at all. */
interface Walked {
  readonly residue: JsonValue | undefined;
  readonly traced: boolean;
}

const WHOLE_TRACE = true;

function walkNode(node: ShapeNode, value: unknown, path: (string | number)[], context: WalkContext): Walked {
  switch (node.kind) {
    case 'object': {
      if (!isPlainObject(value)) return { residue: encodeJson(value, path), traced: WHOLE_TRACE };
      const residue = walkObject(node, value as Document, path, context, false);
      return { residue, traced: true };
    }
    case 'column': {
      const encoded = encodeColumn(node.codec, value, path);
      if (encoded === MISMATCH) return { residue: encodeJson(value, path), traced: true };
      context.row[node.codec.column.name] = encoded;
      return { residue: undefined, traced: true };
    }
    case 'child':
      if (writeChildren(node.table, value, path, context)) return { residue: undefined, traced: true };
      return { residue: encodeJson(value, path), traced: true };
    case 'poly':
      // Reached only when the discriminator did not take the field (see walkObject).
      return { residue: encodeJson(value, path), traced: true };
  }
}

/**
 * Walk a (flattened) object. Returns its residue for `_extra`: the keys no column took,
 * `{}` when the object is present but left no other trace (so `toDoc` can tell `{}` from
 * missing), or undefined when nothing is needed. `isElement`: the element itself, whose
 * presence its row already proves.
 */
function walkObject(
  node: ObjectNode,
  value: Document,
  path: (string | number)[],
  context: WalkContext,
  isElement: boolean,
): JsonValue | undefined {
  const taken = node.groups.length === 0 ? undefined : takeDiscriminators(node.groups, value, path, context);
  let residue: Record<string, JsonValue> | undefined;
  let traced = taken !== undefined && taken.size > 0;
  for (const key of Object.keys(value)) {
    // A key whose value is `undefined` is BSON undefined, not missing: it goes to `_extra`.
    const child = value[key];
    checkKey(key, path);
    if (taken?.has(key)) continue;
    path.push(key);
    const sub = node.children.get(key);
    const walked: Walked =
      sub === undefined
        ? { residue: encodeJson(child, path), traced: true }
        : walkNode(sub, child, path, context);
    path.pop();
    if (walked.residue !== undefined) {
      residue ??= {};
      defineKey(residue, escapeKey(key), walked.residue);
    }
    traced ||= walked.traced;
  }
  if (residue !== undefined) return residue;
  return traced || isElement ? undefined : {};
}

/**
 * Fill the discriminator triples of this object's groups; returns the keys they took. A
 * group takes its fields only when the id is an ObjectId or string of a declared kind (and
 * the kind field, if any, names that kind); otherwise the fields are walked like any other
 * and land in `_extra` whole.
 */
function takeDiscriminators(
  groups: readonly CompiledDiscriminator[],
  value: Document,
  path: (string | number)[],
  context: WalkContext,
): Set<string> {
  const taken = new Set<string>();
  for (const group of groups) {
    const id: unknown = value[group.idKey];
    const kindValue: unknown = group.kindKey === undefined ? undefined : value[group.kindKey];
    const kind = discriminatorKind(group.plan.kinds, group.kindKey, id, kindValue);
    if (kind === undefined) continue;
    const columns = group.plan.columns;
    if (typeof id === 'string') {
      path.push(group.idKey);
      checkString(id, path);
      path.pop();
      context.row[columns.ref] = id;
    } else {
      context.row[columns.id] = objectIdToUuid(id as ObjectId);
    }
    context.row[columns.kind] = kind.name;
    taken.add(group.idKey);
    if (group.kindKey !== undefined) taken.add(group.kindKey);
  }
  return taken;
}

/**
 * The kind a discriminator takes an object as, from the values under its id and kind keys:
 * the id must be an ObjectId or a string of a declared kind, and the kind field (when the
 * discriminator has one) must name that kind. Undefined: the fields are not taken. The BSON
 * fast path (bson-copy/) decides the same way.
 */
export function discriminatorKind(
  kinds: DiscriminatorPlan['kinds'],
  kindKey: string | undefined,
  id: unknown,
  kindValue: unknown,
): DiscriminatorPlan['kinds'][number] | undefined {
  const idType = typeof id === 'string' ? 'string' : isObjectId(id) ? 'objectId' : undefined;
  if (idType === undefined) return undefined;
  if (kindKey !== undefined && typeof kindValue !== 'string') return undefined;
  return kinds.find((k) => k.idType === idType && (kindKey === undefined || k.name === kindValue));
}

/**
 * Rows for an array or map stored in a child table. Returns false (the value goes to
 * `_extra` whole) when it is not of the table's shape, or empty: no rows could record it.
 */
function writeChildren(
  table: CompiledTable,
  value: unknown,
  path: (string | number)[],
  context: WalkContext,
): boolean {
  if (table.shape === 'array') {
    if (!Array.isArray(value) || value.length === 0) return false;
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      writeElement(table, value[i], [...context.key, i], [...context.key, i], context.out, path);
      path.pop();
    }
    return true;
  }
  if (!isPlainObject(value)) return false;
  const entries = Object.keys(value as Document);
  if (entries.length === 0) return false;
  for (const key of entries) {
    checkKey(key, path);
    path.push(key);
    writeElement(
      table,
      (value as Document)[key],
      [...context.key, key],
      [...context.key, key],
      context.out,
      path,
    );
    path.pop();
  }
  return true;
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if (typeof (value as { _bsontype?: unknown })._bsontype === 'string') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isObjectId(value: unknown): boolean {
  return (
    value !== null && typeof value === 'object' && (value as { _bsontype?: unknown })._bsontype === 'ObjectId'
  );
}
