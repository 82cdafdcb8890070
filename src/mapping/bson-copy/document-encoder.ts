import { isUtf8 } from 'node:buffer';
import type { ObjectId } from 'bson';
import {
  type BinaryType,
  writeBinaryArrayHeader,
  writeBinaryValue,
  writeDecimal128Numeric,
} from '../../copy/copy-binary.js';
import { encodeCopyField } from '../../copy/copy-text.js';
import { copyBytes, type TextSink } from '../../copy/text-sink.js';
import { encodeColumn, MISMATCH } from '../column-codec.js';
import type { CompiledCollection } from '../compile.js';
import { objectIdToUuid, uuidFromBytes } from '../identity.js';
import { defineKey, encodeJson, escapeKey, type JsonValue, jsonText } from '../json-value.js';
import { checkString, RejectSignal } from '../reject.js';
import type { RowValue } from '../row-values.js';
import { discriminatorKind } from '../to-rows.js';
import {
  BAIL,
  BSON_TYPE,
  bail,
  ElementCursor,
  isSafeKey,
  readInt32,
  readInt64AsNumber,
} from './bson-elements.js';
import {
  directText,
  writeObjectIdUuid,
  writeObjectIdUuidBinary,
  writeTimestamptz,
  writeTimestamptzBinary,
} from './direct-fields.js';
import { elementValue } from './element-value.js';
import {
  type FastCollection,
  type FastColumn,
  type FastNode,
  type FastObject,
  type FastTable,
  fastCollection,
} from './fast-plan.js';

/**
 * BSON bytes straight to COPY text: the backfill's fast path. It walks a document's bytes
 * along the compiled plan and writes each row's line into its table's sink, never building
 * the document object, the row objects or the line strings that `toRows` + `encodeCopyLine`
 * make. Those allocations were most of the load's CPU time.
 *
 * It must write exactly the bytes `encodeCopyLine(toRows(BSON.deserialize(bytes)))` writes
 * (document-encoder.test.ts checks that on generated and real documents), so it follows
 * to-rows.ts rule for rule, and hands a document back (`encode` returns false) whenever it
 * meets what it does not handle: a reject of any kind, a BSON type outside the common ones,
 * keys whose JS property order differs from BSON order (integer-like keys), `$` keys (which
 * the decoder may turn into a DBRef), duplicate keys, damaged bytes. The caller then runs
 * the full decoder and `toRows` on that document, which give the reject or the rows.
 *
 * @example
 * declare const compiled: CompiledCollection;
 * declare const sinks: readonly TextSink[]; // one per table
 * declare const frame: { readonly bytes: Buffer };
 * declare function slowPath(frame: { readonly bytes: Buffer }): void;
 * const encoder = DocumentEncoder.for(compiled, new TextSink()); // undefined: the collection takes toRows
 * const rowCounts = new Int32Array(compiled.tables.length);
 * if (!encoder?.encode(frame.bytes, sinks, rowCounts)) slowPath(frame);
 */
export class DocumentEncoder {
  readonly #plan: FastCollection;
  /** Fields of the rows being built (nested rows stack on top of their parent's). */
  readonly #scratch: TextSink;
  readonly #path: (string | number)[] = [];
  #stamp = 0;
  #bytes: Buffer = Buffer.alloc(0);
  #sinks: readonly TextSink[] = [];
  #rows: Int32Array = new Int32Array(0);

  private constructor(plan: FastCollection, scratch: TextSink) {
    this.#plan = plan;
    this.#scratch = scratch;
  }

  /**
   * The encoder of a collection, or undefined when its plan needs `toRows` for every document.
   * `binaryTypes[table]`: the column types of a table written in binary COPY format; none, text.
   */
  static for(
    compiled: CompiledCollection,
    scratch: TextSink,
    binaryTypes: readonly (readonly BinaryType[] | undefined)[] = [],
  ): DocumentEncoder | undefined {
    const plan = fastCollection(compiled, binaryTypes);
    return plan === undefined ? undefined : new DocumentEncoder(plan, scratch);
  }

  /**
   * Append the document's rows to `sinks[table]` (plan table order) and count them in
   * `rows[table]`. Returns false, having possibly written part of the rows, when the document
   * must take the full path: the caller rolls the sinks back to where they were.
   */
  encode(bytes: Buffer, sinks: readonly TextSink[], rows: Int32Array): boolean {
    this.#bytes = bytes;
    this.#sinks = sinks;
    this.#rows = rows;
    this.#path.length = 0;
    const scratchStart = this.#scratch.length;
    try {
      const id = this.#idValue(bytes);
      this.#writeElement(this.#plan.root, BSON_TYPE.document, 0, bytes.length, [id], false);
      return true;
    } catch (error) {
      if (error === BAIL || error instanceof RejectSignal) return false;
      throw error;
    } finally {
      this.#scratch.length = scratchStart;
    }
  }

  /** The `_id` as its row value, which every child row repeats as its parent key. */
  #idValue(bytes: Buffer): RowValue {
    const cursor = new ElementCursor(bytes, 0, bytes.length);
    while (cursor.next()) {
      const k = cursor.keyStart;
      if (cursor.keyEnd - k === 3 && bytes[k] === 0x5f && bytes[k + 1] === 0x69 && bytes[k + 2] === 0x64) {
        if (this.#plan.idKind === 'objectId' && cursor.type === BSON_TYPE.objectId)
          return uuidFromBytes(bytes, cursor.valueStart);
        const value = elementValue(bytes, cursor.type, cursor.valueStart, cursor.valueEnd);
        const encoded = encodeColumn(this.#plan.id, value, this.#path);
        if (encoded === MISMATCH || encoded === null) bail();
        return encoded;
      }
    }
    return bail();
  }

  /** One row (and, inside it, its children's rows): to-rows.ts `writeElement`. */
  #writeElement(
    table: FastTable,
    type: number,
    start: number,
    end: number,
    key: readonly RowValue[],
    structural: boolean,
  ): void {
    const scratch = this.#scratch;
    const base = scratch.length;
    table.starts.fill(-1);
    if (structural)
      for (let i = 0; i < table.structural.length; i++) this.#value(table, table.structural[i]!, key[i]!);
    const residue =
      table.root.kind === 'object' && type === BSON_TYPE.document
        ? this.#walkObject(table.root, table, key, start, end, true)
        : this.#walkNode(table.root, table, key, type, start, end);
    if (residue !== undefined) this.#value(table, table.extra, jsonText(residue));
    for (const column of table.required) if (table.starts[column]! < 0) bail();
    this.#emitRow(table);
    scratch.length = base;
  }

  #walkObject(
    node: FastObject,
    table: FastTable,
    key: readonly RowValue[],
    start: number,
    end: number,
    isElement: boolean,
  ): JsonValue | undefined {
    const stamp = ++this.#stamp;
    const bytes = this.#bytes;
    let residue: Record<string, JsonValue> | undefined;
    const taken = node.groups.length === 0 ? undefined : this.#takeDiscriminators(node, table, start, end);
    let traced = taken !== undefined && taken.size > 0;
    const cursor = new ElementCursor(bytes, start, end);
    let position = 0;
    while (cursor.next()) {
      const type = cursor.type;
      if (type === BSON_TYPE.undefined) bail();
      const entry = node.keys.find(bytes, cursor.keyStart, cursor.keyEnd, position++);
      if (entry !== undefined && !entry.value.safe) bail();
      const name = entry?.name ?? checkedKey(cursor);
      traced = true;
      if (taken?.has(name)) continue;
      let walked: JsonValue | undefined;
      if (entry === undefined) walked = this.#json(type, cursor.valueStart, cursor.valueEnd);
      else {
        const sub = entry.value.node;
        if (sub.stamp === stamp) bail();
        sub.stamp = stamp;
        walked = this.#walkNode(sub, table, key, type, cursor.valueStart, cursor.valueEnd);
      }
      if (walked === undefined) continue;
      residue ??= {};
      const escaped = escapeKey(name);
      if (Object.hasOwn(residue, escaped)) bail();
      defineKey(residue, escaped, walked);
    }
    if (residue !== undefined) return residue;
    return traced || isElement ? undefined : {};
  }

  #walkNode(
    node: FastNode,
    table: FastTable,
    key: readonly RowValue[],
    type: number,
    start: number,
    end: number,
  ): JsonValue | undefined {
    switch (node.kind) {
      case 'object':
        return type === BSON_TYPE.document
          ? this.#walkObject(node, table, key, start, end, false)
          : this.#json(type, start, end);
      case 'column':
        return this.#column(node, table, type, start, end);
      case 'child':
        return this.#writeChildren(node.table, key, type, start, end)
          ? undefined
          : this.#json(type, start, end);
      case 'poly':
        return this.#json(type, start, end);
    }
  }

  /** Fill the discriminator columns of this object's groups; the keys they took (to-rows.ts `takeDiscriminators`). */
  #takeDiscriminators(node: FastObject, table: FastTable, start: number, end: number): Set<string> {
    const taken = new Set<string>();
    for (const group of node.groups) {
      const id = this.#valueOf(group.idKey, start, end);
      const kindValue = group.kindKey === undefined ? undefined : this.#valueOf(group.kindKey, start, end);
      const kind = discriminatorKind(group.kinds, group.kindKey, id, kindValue);
      if (kind === undefined) continue;
      if (typeof id === 'string') {
        checkString(id, this.#path);
        this.#value(table, group.refColumn, id);
      } else this.#value(table, group.idColumn, objectIdToUuid(id as ObjectId));
      this.#value(table, group.kindColumn, kind.name);
      taken.add(group.idKey);
      if (group.kindKey !== undefined) taken.add(group.kindKey);
    }
    return taken;
  }

  /** The value under `key` in the object at `[start, end)`, undefined when absent. */
  #valueOf(key: string, start: number, end: number): unknown {
    const cursor = new ElementCursor(this.#bytes, start, end);
    while (cursor.next()) {
      if (cursor.key() === key)
        return elementValue(this.#bytes, cursor.type, cursor.valueStart, cursor.valueEnd);
    }
    return undefined;
  }

  #column(
    node: FastColumn,
    table: FastTable,
    type: number,
    start: number,
    end: number,
  ): JsonValue | undefined {
    if (table.starts[node.column]! >= 0) bail();
    if (node.text && type === BSON_TYPE.string) {
      this.#textField(table, node.column, start, end);
      return undefined;
    }
    if (node.direct === 'objectId' && type === BSON_TYPE.objectId) {
      table.starts[node.column] = this.#scratch.length;
      if (table.binary) writeObjectIdUuidBinary(this.#scratch, this.#bytes, start);
      else writeObjectIdUuid(this.#scratch, this.#bytes, start);
      table.ends[node.column] = this.#scratch.length;
      return undefined;
    }
    if (node.direct === 'date' && type === BSON_TYPE.date) {
      table.starts[node.column] = this.#scratch.length;
      const ms = readInt64AsNumber(this.#bytes, start);
      const write = table.binary ? writeTimestamptzBinary : writeTimestamptz;
      // Out of range is a reject, which toRows words: hand the document back.
      if (!write(this.#scratch, ms)) bail();
      table.ends[node.column] = this.#scratch.length;
      return undefined;
    }
    if (
      node.textArray &&
      table.binary &&
      type === BSON_TYPE.array &&
      this.#textArrayField(table, node.column, start, end)
    )
      return undefined;
    if (node.direct === 'decimal' && type === BSON_TYPE.decimal128 && table.binary) {
      const from = this.#scratch.length;
      if (writeDecimal128Numeric(this.#scratch, this.#bytes, start)) {
        table.starts[node.column] = from;
        table.ends[node.column] = this.#scratch.length;
        return undefined;
      }
    }
    // The other direct forms are text; in binary the value takes the general way below.
    const textKind =
      node.direct === 'objectId' || node.direct === 'date' || node.direct === 'decimal'
        ? undefined
        : node.direct;
    const direct =
      textKind === undefined || table.binary ? undefined : directText(textKind, this.#bytes, type, start);
    if (direct !== undefined) {
      this.#field(table, node.column, direct);
      return undefined;
    }
    const value = elementValue(this.#bytes, type, start, end);
    const encoded = encodeColumn(node.codec, value, this.#path);
    if (encoded === MISMATCH) return encodeJson(value, this.#path);
    if (table.binary) this.#value(table, node.column, encoded);
    else
      this.#field(
        table,
        node.column,
        node.plain && typeof encoded !== 'boolean' ? String(encoded) : encodeCopyField(encoded),
      );
    return undefined;
  }

  /** Rows of an array or map in its child table; false when there are none (to-rows.ts `writeChildren`). */
  #writeChildren(
    table: FastTable,
    key: readonly RowValue[],
    type: number,
    start: number,
    end: number,
  ): boolean {
    if (table.shape === 'array') {
      if (type !== BSON_TYPE.array) return false;
      const cursor = new ElementCursor(this.#bytes, start, end);
      let index = 0;
      while (cursor.next()) {
        if (cursor.type === BSON_TYPE.undefined) bail();
        this.#writeElement(table, cursor.type, cursor.valueStart, cursor.valueEnd, [...key, index], true);
        index++;
      }
      return index > 0;
    }
    if (type !== BSON_TYPE.document) return false;
    const cursor = new ElementCursor(this.#bytes, start, end);
    const seen = new Set<string>();
    while (cursor.next()) {
      if (cursor.type === BSON_TYPE.undefined) bail();
      const name = checkedKey(cursor);
      if (seen.has(name)) bail();
      seen.add(name);
      this.#writeElement(table, cursor.type, cursor.valueStart, cursor.valueEnd, [...key, name], true);
    }
    return seen.size > 0;
  }

  #json(type: number, start: number, end: number): JsonValue {
    return encodeJson(elementValue(this.#bytes, type, start, end), this.#path);
  }

  /** A row value as field `column`, in the table's format. */
  #value(table: FastTable, column: number, value: RowValue): void {
    if (!table.binary) {
      this.#field(table, column, encodeCopyField(value));
      return;
    }
    if (value === null) return;
    table.starts[column] = this.#scratch.length;
    writeBinaryValue(this.#scratch, table.types[column]!, value);
    table.ends[column] = this.#scratch.length;
  }

  /** COPY text (already escaped) as field `column` of a text-format table. */
  #field(table: FastTable, column: number, text: string): void {
    table.starts[column] = this.#scratch.length;
    this.#scratch.writeString(text);
    table.ends[column] = this.#scratch.length;
  }

  /**
   * A BSON array of strings as a binary `text[]` field, its elements' bytes copied as they are
   * (`copyCheckedText`, as a string column's). False, having written nothing, for an array
   * the general way must judge: empty, or holding anything but strings (a null, a number).
   */
  #textArrayField(table: FastTable, column: number, start: number, end: number): boolean {
    const bytes = this.#bytes;
    const cursor = new ElementCursor(bytes, start, end);
    let count = 0;
    while (cursor.next()) {
      if (cursor.type !== BSON_TYPE.string) return false;
      count++;
    }
    if (count === 0) return false;
    const scratch = this.#scratch;
    const from = scratch.length;
    writeBinaryArrayHeader(scratch, 'text', count, false);
    // The elements take no more than the array's bytes: a length replaces each string's own.
    scratch.reserve(end - start);
    const out = scratch.bytes;
    let at = scratch.length;
    const elements = new ElementCursor(bytes, start, end);
    while (elements.next()) {
      const text = elements.valueStart + 4;
      const textEnd = elements.valueEnd - 1;
      if (readInt32(bytes, elements.valueStart) !== textEnd - text + 1) bail();
      at = copyCheckedText(bytes, text, textEnd, out, out.writeInt32BE(textEnd - text, at));
    }
    scratch.length = at;
    table.starts[column] = from;
    table.ends[column] = at;
    return true;
  }

  /** A BSON string's bytes as a COPY field: escaped, and checked as `checkString` and the decoder would. */
  #textField(table: FastTable, column: number, start: number, end: number): void {
    const bytes = this.#bytes;
    const from = start + 4;
    const to = end - 1;
    const scratch = this.#scratch;
    scratch.reserve(2 * (to - from));
    const out = scratch.bytes;
    let at = scratch.length;
    table.starts[column] = at;
    if (table.binary) at = copyCheckedText(bytes, from, to, out, at);
    else {
      let ascii = true;
      for (let i = from; i < to; i++) {
        const byte = bytes[i]!;
        if (byte >= 0x20 && byte !== 0x5c) {
          if (byte >= 0x80) ascii = false;
          out[at++] = byte;
          continue;
        }
        const escaped = COPY_ESCAPE[byte] ?? -1;
        // NUL: PostgreSQL cannot store it, a reject that toRows words.
        if (escaped === 0) bail();
        if (escaped > 0) {
          out[at++] = 0x5c;
          out[at++] = escaped;
        } else out[at++] = byte;
      }
      if (!ascii && !isUtf8(bytes.subarray(from, to))) bail();
    }
    scratch.length = at;
    table.ends[column] = at;
  }

  #emitRow(table: FastTable): void {
    if (table.binary) {
      this.#emitBinaryRow(table);
      return;
    }
    const sink = this.#sinks[table.index]!;
    const scratch = this.#scratch.bytes;
    const { starts, ends, width } = table;
    let size = width * 3;
    for (let c = 0; c < width; c++) if (starts[c]! >= 0) size += ends[c]! - starts[c]!;
    sink.reserve(size);
    const out = sink.bytes;
    let at = sink.length;
    for (let c = 0; c < width; c++) {
      if (c > 0) out[at++] = 0x09;
      const from = starts[c]!;
      if (from < 0) {
        out[at++] = 0x5c;
        out[at++] = 0x4e;
        continue;
      }
      at = copyBytes(scratch, from, ends[c]!, out, at);
    }
    out[at++] = 0x0a;
    sink.length = at;
    this.#rows[table.index]!++;
  }

  /** The row in binary format: field count, then each field's length (-1: NULL) and bytes. */
  #emitBinaryRow(table: FastTable): void {
    const sink = this.#sinks[table.index]!;
    const scratch = this.#scratch.bytes;
    const { starts, ends, width } = table;
    let size = 2 + width * 4;
    for (let c = 0; c < width; c++) if (starts[c]! >= 0) size += ends[c]! - starts[c]!;
    sink.reserve(size);
    const out = sink.bytes;
    let at = out.writeInt16BE(width, sink.length);
    for (let c = 0; c < width; c++) {
      const from = starts[c]!;
      if (from < 0) {
        at = out.writeInt32BE(-1, at);
        continue;
      }
      const to = ends[c]!;
      at = copyBytes(scratch, from, to, out, out.writeInt32BE(to - from, at));
    }
    sink.length = at;
    this.#rows[table.index]!++;
  }
}

/**
 * A BSON string's bytes `[from, to)` copied as they are into `out` at `at` (binary COPY needs
 * no escaping), checked as `checkString` and the decoder would check the string: NUL, which
 * PostgreSQL cannot store (a reject that toRows words), and bytes that are not UTF-8 hand the
 * document back. Returns where the copy ends; `out` must have the room.
 */
function copyCheckedText(bytes: Buffer, from: number, to: number, out: Buffer, at: number): number {
  let ascii = true;
  for (let i = from; i < to; i++) {
    const byte = bytes[i]!;
    if (byte === 0) bail();
    if (byte >= 0x80) ascii = false;
    out[at++] = byte;
  }
  if (!ascii && !isUtf8(bytes.subarray(from, to))) bail();
  return at;
}

/** Byte → the letter after a backslash in COPY text; 0 marks NUL, which has no escape. */
const COPY_ESCAPE: Readonly<Record<number, number>> = { 0: 0, 9: 0x74, 10: 0x6e, 13: 0x72, 92: 0x5c };

/** An unmapped key, left to toRows unless the fast path can take it (`isSafeKey`). */
function checkedKey(cursor: ElementCursor): string {
  const name = cursor.key();
  if (!isSafeKey(name)) bail();
  return name;
}
