import { BSON } from 'bson';
import { GrowableBuffer } from '../core/growable-buffer.js';
import type { CompiledCollection, CompiledTable, ShapeNode } from './compile.js';
import { compiledCollection } from './compile.js';
import { objectIdBytes } from './identity.js';
import { decodeJson, escapeKey, type JsonValue, unescapeKey } from './json-value.js';
import { EXTRA_COLUMN, type Plan } from './model.js';
import { decimalFromText, parseTimestamptz } from './pg-text.js';
import type { ScalarPgType } from './pg-types.js';
import type { DocumentRows, RowValue, RowValues } from './row-values.js';

/**
 * A document's rows straight to its BSON bytes, byte for byte what
 * `BSON.serialize(toDoc(plan, collection, rows))` gives, without building the document: the
 * export's page loop spent a third of its time building documents only to serialize them.
 *
 * It covers the shapes most plans have (columns, flattened sub-documents, arrays in child
 * tables, typed array columns, and what `jsonb` and `_extra` hold, which BSON itself
 * serializes). Anything else — a transform, a discriminator, a map, a key JavaScript would reorder, or rows toDoc would
 * refuse — is declined: `write` returns false with nothing written, and the caller takes
 * toDoc's path for that document, so its checks and errors stay the only ones.
 *
 * @example
 * declare const plan: Plan;
 * declare const rows: DocumentRows;
 * const writer = RowsToBson.for(plan, 'orders');
 * if (writer?.write(rows)) console.log(writer.bytes().subarray(0, writer.length));
 */
export class RowsToBson extends GrowableBuffer {
  /**
   * Whether the last document written may hold a BSON undefined (`{"$undefined": true}` in a
   * `jsonb` value or `_extra`): toDoc keeps it as an `undefined` field, which BSON.serialize
   * leaves out but Extended JSON writes as `null`, so the bytes alone do not give its text.
   */
  mayHoldUndefined = false;

  private constructor(
    private readonly root: TableWriter,
    private readonly rootName: string,
  ) {
    super();
  }

  /** The writer of a collection, or undefined when its plan has a shape it does not write. */
  static for(plan: Plan, collection: string): RowsToBson | undefined {
    const compiled = compiledCollection(plan, collection);
    let writer = writers.get(compiled);
    if (writer === undefined) {
      const root = tableWriter(compiled.root);
      writer = root === undefined ? null : new RowsToBson(root, compiled.root.name);
      writers.set(compiled, writer);
    }
    // One writer per compiled collection is shared: a caller writes a page without awaiting
    // and copies it out before it yields, so no two pages are ever in its buffer at once.
    return writer ?? undefined;
  }

  /**
   * Append the document of `rows`; false, with nothing appended, when the writer declines
   * it (the caller then rebuilds it through toDoc).
   */
  write(rows: DocumentRows): boolean {
    const roots = rows.get(this.rootName);
    if (roots === undefined || roots.length !== 1) return false;
    this.mayHoldUndefined = false;
    const start = this.length;
    if (this.element(this.root, roots[0]!, rows)) return true;
    this.length = start;
    return false;
  }

  private element(table: TableWriter, row: RowValues, rows: DocumentRows): boolean {
    const extra = row[EXTRA_COLUMN];
    if (extra === undefined || table.scalar !== undefined) return false;
    for (const k of table.table.key) if (row[k] === undefined) return false;
    let residue: Residue | undefined;
    if (extra !== null) {
      const text = String(extra);
      if (text.includes(UNDEFINED_KEY)) this.mayHoldUndefined = true;
      // A whole value in Extended JSON instead of the element's fields is left to toDoc.
      residue = parsedResidue(text);
      if (residue === undefined) return false;
    }
    const start = this.length;
    this.ensure(4);
    this.length += 4;
    for (const field of table.fields)
      if (this.field(field, table, row, rows, residue) === FAILED) return false;
    if (residue !== undefined && !this.unmapped(table.mapped, residue)) return false;
    this.ensure(1);
    this.buffer[this.length++] = 0;
    this.buffer.writeInt32LE(this.length - start, start);
    return true;
  }

  /**
   * Write one field; WRITTEN, ABSENT (toDoc's MISSING: nothing written), or FAILED. `residue`:
   * the `_extra` object at this level, whose value for the field's key wins over its columns
   * (toDoc's rebuildNode).
   */
  private field(
    field: Field,
    table: TableWriter,
    row: RowValues,
    rows: DocumentRows,
    residue: Residue | undefined,
  ): Outcome {
    const sub =
      residue !== undefined && Object.hasOwn(residue, field.escaped) ? residue[field.escaped] : undefined;
    if (sub !== undefined) {
      if (field.kind === 'object' && isResidueObject(sub)) return this.object(field, table, row, rows, sub);
      return this.decoded(field.key, sub) ? WRITTEN : FAILED;
    }
    switch (field.kind) {
      case 'column': {
        const raw = row[field.column];
        if (raw === undefined) return FAILED;
        if (raw === null) return ABSENT;
        this.name(field.type.array ? 0x04 : field.type.tag, field.name);
        return this.columnValue(field.type, raw) ? WRITTEN : FAILED;
      }
      case 'json': {
        const raw = row[field.column];
        if (raw === undefined) return FAILED;
        if (raw === null) return ABSENT;
        const text = String(raw);
        const bytes = jsonElement(field, text);
        if (bytes === undefined) return FAILED;
        if (text.includes(UNDEFINED_KEY)) this.mayHoldUndefined = true;
        this.append(bytes);
        return WRITTEN;
      }
      case 'object':
        return this.object(field, table, row, rows, undefined);
      case 'child':
        return this.children(field, table, row, rows);
    }
  }

  /** A flattened sub-document: present when a field of it is, or when `_extra` names it. */
  private object(
    field: Field & { kind: 'object' },
    table: TableWriter,
    row: RowValues,
    rows: DocumentRows,
    residue: Residue | undefined,
  ): Outcome {
    const start = this.length;
    this.name(0x03, field.name);
    const body = this.length;
    this.ensure(4);
    this.length += 4;
    let present = residue !== undefined;
    for (const child of field.fields) {
      const outcome = this.field(child, table, row, rows, residue);
      if (outcome === FAILED) return FAILED;
      if (outcome === WRITTEN) present = true;
    }
    if (residue !== undefined && !this.unmapped(field.mapped, residue)) return FAILED;
    if (!present) {
      this.length = start;
      return ABSENT;
    }
    this.ensure(1);
    this.buffer[this.length++] = 0;
    this.buffer.writeInt32LE(this.length - body, body);
    return WRITTEN;
  }

  /** An array in a child table: its elements by `idx`; absent when it has no rows. */
  private children(
    field: Field & { kind: 'child' },
    table: TableWriter,
    row: RowValues,
    rows: DocumentRows,
  ): Outcome {
    const children = childRows(field.table, table, row, rows);
    if (children === undefined) return FAILED;
    if (children.length === 0) return ABSENT;
    const ordered = inIndexOrder(children, field.table.ordinal);
    if (ordered === undefined) return FAILED;
    this.name(0x04, field.name);
    const body = this.length;
    this.ensure(4);
    this.length += 4;
    const child = field.table;
    for (let i = 0; i < ordered.length; i++) {
      const elementRow = ordered[i]!;
      if (child.scalar === undefined) {
        this.name(0x03, indexName(i));
        if (!this.element(child, elementRow, rows)) return FAILED;
        continue;
      }
      // An element that is a value, not a sub-document: its one column, never NULL
      // (toDoc refuses a row that holds no value at all).
      if (elementRow[EXTRA_COLUMN] !== null) return FAILED;
      const raw = elementRow[child.scalar.column];
      if (raw === undefined || raw === null) return FAILED;
      this.name(child.scalar.type.array ? 0x04 : child.scalar.type.tag, indexName(i));
      if (!this.columnValue(child.scalar.type, raw)) return FAILED;
    }
    this.ensure(1);
    this.buffer[this.length++] = 0;
    this.buffer.writeInt32LE(this.length - body, body);
    return WRITTEN;
  }

  /** The residue's keys that no field maps, after the mapped ones, as toDoc adds them. */
  private unmapped(mapped: ReadonlySet<string>, residue: Residue): boolean {
    for (const escaped of Object.keys(residue)) {
      const key = unescapeKey(escaped);
      if (mapped.has(key)) continue;
      // JavaScript would list an integer-like key first, not after the mapped ones.
      if (ARRAY_INDEX.test(key)) return false;
      if (!this.decoded(key, residue[escaped])) return false;
    }
    return true;
  }

  /** A value from `_extra`, decoded as toDoc decodes it, as one element named `key`. */
  private decoded(key: string, json: unknown): boolean {
    if (json === null && !key.includes('\u0000')) {
      this.name(0x0a, nameBytes(key));
      return true;
    }
    let whole: Uint8Array;
    try {
      whole = BSON.serialize({ [key]: decodeJson(json) });
    } catch {
      return false;
    }
    this.append(whole.subarray(4, whole.length - 1));
    return true;
  }

  /** An element's type byte and name (a C string). */
  private name(tag: number, name: Buffer): void {
    this.ensure(1 + name.length);
    this.buffer[this.length++] = tag;
    this.buffer.set(name, this.length);
    this.length += name.length;
  }

  private columnValue(type: ColumnType, raw: RowValue): boolean {
    if (!type.array) return this.scalar(type, raw);
    if (!Array.isArray(raw)) return false;
    const body = this.length;
    this.ensure(4);
    this.length += 4;
    for (let i = 0; i < raw.length; i++) {
      const item = raw[i] as RowValue;
      if (item === null) {
        this.name(0x0a, indexName(i));
        continue;
      }
      this.name(type.tag, indexName(i));
      if (!this.scalar(type, item)) return false;
    }
    this.ensure(1);
    this.buffer[this.length++] = 0;
    this.buffer.writeInt32LE(this.length - body, body);
    return true;
  }

  /** The value of one scalar, as decodeScalar (column-codec.ts) would decode it. */
  private scalar(type: ColumnType, raw: RowValue): boolean {
    switch (type.decode) {
      case 'objectId': {
        const bytes = objectIdBytes(String(raw));
        if (bytes === undefined) return false;
        this.ensure(12);
        this.buffer.set(bytes.subarray(0, 12), this.length);
        this.length += 12;
        return true;
      }
      case 'string': {
        const text = String(raw);
        this.ensure(5 + 3 * text.length);
        const written = this.buffer.write(text, this.length + 4, 'utf8');
        this.buffer.writeInt32LE(written + 1, this.length);
        this.length += 4 + written;
        this.buffer[this.length++] = 0;
        return true;
      }
      case 'bool':
        this.ensure(1);
        this.buffer[this.length++] = raw === true || raw === 't' || raw === 'true' ? 1 : 0;
        return true;
      case 'date': {
        const text = String(raw);
        const ms = parseTimestamptz(text) ?? parseTimestamptz(text.replace(/(\.\d{3})\d+/, '$1'));
        // Beyond ±8.64e15 ms a JS Date is invalid: left to toDoc.
        if (ms === undefined || Math.abs(ms) > MAX_DATE_MS) return false;
        this.safeInt64(ms);
        return true;
      }
      case 'binary': {
        const bytes = Buffer.isBuffer(raw) || raw instanceof Uint8Array ? raw : undefined;
        if (bytes === undefined) return false;
        this.ensure(5 + bytes.length);
        this.buffer.writeInt32LE(bytes.length, this.length);
        this.buffer[this.length + 4] = 0;
        this.buffer.set(bytes, this.length + 5);
        this.length += 5 + bytes.length;
        return true;
      }
      case 'int': {
        const n = Number(String(raw));
        if (!Number.isInteger(n) || n > INT32_MAX || n < INT32_MIN) return false;
        this.ensure(4);
        this.buffer.writeInt32LE(n, this.length);
        this.length += 4;
        return true;
      }
      case 'long': {
        const text = String(raw).replace(/\.0*$/, '');
        if (!INTEGER_TEXT.test(text)) return false;
        this.ensure(8);
        this.buffer.writeBigInt64LE(BigInt.asIntN(64, BigInt(text)), this.length);
        this.length += 8;
        return true;
      }
      case 'double':
        this.ensure(8);
        this.buffer.writeDoubleLE(Number.parseFloat(String(raw)), this.length);
        this.length += 8;
        return true;
      case 'decimal': {
        let bytes: Uint8Array;
        try {
          bytes = decimalFromText(String(raw)).bytes;
        } catch {
          return false;
        }
        this.ensure(16);
        this.buffer.set(bytes, this.length);
        this.length += 16;
        return true;
      }
    }
  }
}

const writers = new WeakMap<CompiledCollection, RowsToBson | null>();

const WRITTEN = 0;
const ABSENT = 1;
const FAILED = 2;
type Outcome = typeof WRITTEN | typeof ABSENT | typeof FAILED;

const UNDEFINED_KEY = '"$undefined"';

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const INTEGER_TEXT = /^[+-]?\d+$/;
const MAX_DATE_MS = 8.64e15;

type Decode = 'objectId' | 'string' | 'bool' | 'date' | 'binary' | 'int' | 'long' | 'double' | 'decimal';

interface ColumnType {
  readonly array: boolean;
  /** The BSON type byte of one value. */
  readonly tag: number;
  readonly decode: Decode;
}

interface FieldName {
  readonly key: string;
  /** The key as `_extra` spells it (escapeKey). */
  readonly escaped: string;
  /** The key as a BSON name: a C string. */
  readonly name: Buffer;
}

type Field = FieldName &
  (
    | { readonly kind: 'column'; readonly column: string; readonly type: ColumnType }
    | { readonly kind: 'json'; readonly column: string; readonly values: Map<string, Uint8Array> }
    | { readonly kind: 'object'; readonly fields: readonly Field[]; readonly mapped: ReadonlySet<string> }
    | { readonly kind: 'child'; readonly table: TableWriter }
  );

interface TableWriter {
  readonly table: CompiledTable;
  /** The element's fields, in toDoc's order; empty for an element that is one value. */
  readonly fields: readonly Field[];
  /** An element that is one value (an array of scalars): its column. */
  readonly scalar: { readonly column: string; readonly type: ColumnType } | undefined;
  readonly ordinal: string;
  /** The keys of the element's mapped fields (residue for one of them is declined). */
  readonly mapped: ReadonlySet<string>;
}

/** A table's writer, or undefined when some part of it is a shape the writer declines. */
function tableWriter(table: CompiledTable): TableWriter | undefined {
  if (table.discriminators.length > 0) return undefined;
  if (table.shape === 'map') return undefined;
  const ordinal = table.ordinal ?? '';
  if (table.root.kind === 'column') {
    const type = columnType(table.root);
    if (type === undefined) return undefined;
    return {
      table,
      fields: [],
      scalar: { column: table.root.codec.column.name, type },
      ordinal,
      mapped: new Set(),
    };
  }
  if (table.root.kind !== 'object') return undefined;
  const fields = objectFields(table.root);
  if (fields === undefined) return undefined;
  return { table, fields, scalar: undefined, ordinal, mapped: new Set(table.root.children.keys()) };
}

function objectFields(node: ShapeNode & { kind: 'object' }): Field[] | undefined {
  if (node.groups.length > 0) return undefined;
  const fields: Field[] = [];
  for (const [key, child] of node.children) {
    // JavaScript lists integer-like keys first, so toDoc's object would not keep plan order;
    // a NUL cannot be in a BSON name.
    if (ARRAY_INDEX.test(key) || key.includes('\u0000')) return undefined;
    const name = { key, escaped: escapeKey(key), name: nameBytes(key) };
    switch (child.kind) {
      case 'column': {
        if (isJsonColumn(child)) {
          fields.push({ kind: 'json', ...name, column: child.codec.column.name, values: new Map() });
          break;
        }
        const type = columnType(child);
        if (type === undefined) return undefined;
        fields.push({ kind: 'column', ...name, column: child.codec.column.name, type });
        break;
      }
      case 'object': {
        const nested = objectFields(child);
        if (nested === undefined) return undefined;
        fields.push({ kind: 'object', ...name, fields: nested, mapped: new Set(child.children.keys()) });
        break;
      }
      case 'child': {
        const table = tableWriter(child.table);
        if (table === undefined) return undefined;
        fields.push({ kind: 'child', ...name, table });
        break;
      }
      case 'poly':
        return undefined;
    }
  }
  return fields;
}

const ARRAY_INDEX = /^(0|[1-9]\d{0,9})$/;

const SCALARS: Partial<Record<ScalarPgType, { tag: number; decode: Decode }>> = {
  uuid: { tag: 0x07, decode: 'objectId' },
  text: { tag: 0x02, decode: 'string' },
  boolean: { tag: 0x08, decode: 'bool' },
  timestamptz: { tag: 0x09, decode: 'date' },
  bytea: { tag: 0x05, decode: 'binary' },
};

const NUMBERS: Record<string, { tag: number; decode: Decode }> = {
  int: { tag: 0x10, decode: 'int' },
  long: { tag: 0x12, decode: 'long' },
  double: { tag: 0x01, decode: 'double' },
  decimal: { tag: 0x13, decode: 'decimal' },
};

const NATURAL: Partial<Record<ScalarPgType, string>> = {
  integer: 'int',
  bigint: 'long',
  'double precision': 'double',
  numeric: 'decimal',
};

/** How a column's values are written, as decodeColumn decodes them; undefined: declined. */
function columnType(node: ShapeNode & { kind: 'column' }): ColumnType | undefined {
  const { codec } = node;
  if (codec.transform !== undefined) return undefined;
  const base = codec.type.base;
  const scalar = SCALARS[base];
  if (scalar !== undefined) return { array: codec.type.array, ...scalar };
  const natural = NATURAL[base];
  if (natural === undefined) return undefined; // jsonb: Extended JSON, left to toDoc
  const sourceType = codec.column.sourceType;
  const number = NUMBERS[sourceType === 'number' ? natural : sourceType];
  return number === undefined ? undefined : { array: codec.type.array, ...number };
}

function isJsonColumn(node: ShapeNode & { kind: 'column' }): boolean {
  const { codec } = node;
  return codec.transform === undefined && codec.type.base === 'jsonb' && !codec.type.array;
}

/**
 * A `jsonb` column's value as one BSON element: its Extended JSON decoded as toDoc decodes
 * it, serialized by BSON itself (the values are as varied as the documents), cached by text
 * since many rows repeat a value.
 */
function jsonElement(
  field: { key: string; values: Map<string, Uint8Array> },
  text: string,
): Uint8Array | undefined {
  // Only short texts repeat often enough to pay for a lookup; a long one is hashed for nothing.
  const cached = text.length <= CACHED_TEXT ? field.values.get(text) : undefined;
  if (cached !== undefined) return cached;
  let value: unknown;
  try {
    value = decodeJson(JSON.parse(text) as JsonValue);
  } catch {
    return undefined;
  }
  const whole = BSON.serialize({ [field.key]: value });
  const bytes = whole.subarray(4, whole.length - 1);
  if (text.length <= CACHED_TEXT) remember(field.values, text, Buffer.from(bytes));
  return bytes;
}

const CACHED_TEXT = 64;

type Residue = Readonly<Record<string, unknown>>;

/** `_extra` text as the residue object toDoc merges, or undefined for a whole value. */
function parsedResidue(text: string): Residue | undefined {
  let json = parsedResidues.get(text);
  if (json === undefined) {
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
    if (text.length <= CACHED_TEXT) remember(parsedResidues, text, json);
  }
  return isResidueObject(json) ? (json as Residue) : undefined;
}

/** toDoc's test: an object of keys to merge, as opposed to a whole value in Extended JSON. */
function isResidueObject(json: unknown): json is Residue {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return false;
  for (const k in json) if (k.charCodeAt(0) === 0x24) return false;
  return true;
}

/** Parsed `_extra` texts: many rows repeat one (`{"reactions": {}}`); they are only read. */
const parsedResidues = new Map<string, unknown>();
const CACHE_LIMIT = 4096;

/** A bounded cache: cleared when full, which costs only a re-encode. */
function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}

/**
 * The rows of `child` under one element of `parent`: toDoc's ChildIndex, without its map for
 * the common case where the parent is the document's root (every fetched row is its own).
 */
function childRows(
  child: TableWriter,
  parent: TableWriter,
  parentRow: RowValues,
  rows: DocumentRows,
): readonly RowValues[] | undefined {
  const all = rows.get(child.table.name) ?? [];
  const parentKey = parent.table.key;
  const columns = child.table.parentColumns;
  if (columns.length !== parentKey.length) return undefined;
  const out: RowValues[] = [];
  for (const row of all) {
    let same = true;
    for (let i = 0; i < columns.length; i++) {
      const mine = row[columns[i]!];
      const theirs = parentRow[parentKey[i]!];
      if (mine === undefined || theirs === undefined) return undefined;
      if (!sameKeyPart(mine, theirs)) {
        same = false;
        break;
      }
    }
    if (same) out.push(row);
  }
  return out;
}

/** toDoc's key comparison: the parts' text (a Buffer's hex). */
function sameKeyPart(a: RowValue, b: RowValue): boolean {
  if (a === b) return true;
  return keyPart(a) === keyPart(b);
}

function keyPart(value: RowValue): string {
  return Buffer.isBuffer(value) ? value.toString('hex') : String(value);
}

/** Array rows by `idx`, or undefined when the indexes are not exactly 0 … n-1 (toDoc refuses). */
function inIndexOrder(rows: readonly RowValues[], ordinal: string): RowValues[] | undefined {
  const out = new Array<RowValues>(rows.length);
  for (const row of rows) {
    const raw = row[ordinal];
    if (raw === undefined) return undefined;
    const idx = Number(raw);
    if (!Number.isInteger(idx) || idx < 0 || idx >= rows.length || out[idx] !== undefined) return undefined;
    out[idx] = row;
  }
  return out;
}

const INDEX_NAMES = Array.from({ length: 1024 }, (_, i) => Buffer.from(`${i}\u0000`));

function nameBytes(key: string): Buffer {
  return Buffer.from(`${key}\u0000`, 'utf8');
}

function indexName(i: number): Buffer {
  return INDEX_NAMES[i] ?? Buffer.from(`${i}\u0000`);
}
