import type { BinaryType } from '../../copy/copy-binary.js';
import type { ColumnCodec } from '../column-codec.js';
import type { CompiledCollection, CompiledTable, ShapeNode } from '../compile.js';
import { EXTRA_COLUMN } from '../model.js';
import type { SourceType } from '../pg-types.js';
import { isSafeKey } from './bson-elements.js';
import { type DirectKind, directKind } from './direct-fields.js';
import { KeyTable } from './key-table.js';

/** Source types whose column text is digits, signs, dates or hex: nothing COPY must escape. */
const PLAIN_SOURCES: ReadonlySet<SourceType> = new Set([
  'objectId',
  'bool',
  'date',
  'int',
  'long',
  'double',
  'decimal',
  'number',
]);

/**
 * The compiled plan re-shaped for the BSON fast path (document-encoder.ts): column nodes know
 * their column's position in the COPY line, and each table carries the field slots of the
 * row being built. Every node carries a `stamp`, the walk's way of noticing a key that occurs
 * twice in one object (the full decoder keeps the last; the fast path leaves such documents to it).
 */
export type FastNode = FastObject | FastColumn | FastChild | FastPoly;

export interface FastObject {
  readonly kind: 'object';
  /** The mapped keys, found by their bytes; `safe` is false for a key the walk must leave to toRows. */
  readonly keys: KeyTable<{ readonly node: FastNode; readonly safe: boolean }>;
  /** Discriminators whose id (and kind) fields are keys of this object. */
  readonly groups: readonly FastGroup[];
  stamp: number;
}

/** A discriminator as the walk needs it: the keys it reads and the positions it fills. */
export interface FastGroup {
  readonly idKey: string;
  readonly kindKey: string | undefined;
  readonly kinds: readonly { readonly name: string; readonly idType: 'objectId' | 'string' }[];
  readonly kindColumn: number;
  readonly idColumn: number;
  readonly refColumn: number;
}

/** A discriminator's field that the discriminator did not take: it goes to `_extra`. */
export interface FastPoly {
  readonly kind: 'poly';
  stamp: number;
}

export interface FastColumn {
  readonly kind: 'column';
  readonly codec: ColumnCodec;
  /** Position of the column in the table's COPY line. */
  readonly column: number;
  /** A scalar string column: BSON string bytes are copied straight into the line. */
  readonly text: boolean;
  /** A `text[]` of strings: in binary, an array of BSON strings is copied straight into the row. */
  readonly textArray: boolean;
  /** The column's most common values go from bytes to text directly (direct-fields.ts). */
  readonly direct: DirectKind | undefined;
  /** Its encoded values never need COPY escaping (numbers, dates, uuids, booleans). */
  readonly plain: boolean;
  stamp: number;
}

export interface FastChild {
  readonly kind: 'child';
  readonly table: FastTable;
  stamp: number;
}

export interface FastTable {
  /** Index of the table in the collection's tables (plan order), and of its output. */
  readonly index: number;
  /** Rows go out in PostgreSQL's binary COPY format (copy-binary.ts), not text. */
  readonly binary: boolean;
  /** With `binary`: each column's type, which decides its binary form. */
  readonly types: readonly BinaryType[];
  readonly shape: CompiledTable['shape'];
  root: FastNode;
  readonly width: number;
  readonly extra: number;
  /** Positions of the parent-key columns, then of the ordinal (children only). */
  readonly structural: readonly number[];
  /** Positions of the NOT NULL value columns. */
  readonly required: readonly number[];
  /** Where each field of the row being built lies in the scratch sink; -1 is NULL. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
}

export interface FastCollection {
  readonly root: FastTable;
  readonly id: ColumnCodec;
  readonly idKind: DirectKind | undefined;
  readonly tables: readonly FastTable[];
}

/**
 * The fast form of a compiled collection, or undefined when it uses transforms: user code,
 * which the fast path leaves to `toRows`. A table with column types in `binaryTypes` (by table
 * index) is written in binary COPY format.
 */
export function fastCollection(
  compiled: CompiledCollection,
  binaryTypes: readonly (readonly BinaryType[] | undefined)[] = [],
): FastCollection | undefined {
  const supported = compiled.tables.every((t) => t.codecs.every((c) => c.transform === undefined));
  const id = compiled.root.id;
  if (!supported || id === undefined) return undefined;
  const tables = compiled.tables.map((table, index) => fastTable(table, index, binaryTypes[index]));
  compiled.tables.forEach((table, i) => {
    tables[i]!.root = fastNode(table.root, table, (child) => tables[compiled.tables.indexOf(child)]!);
  });
  return { root: tables[0]!, id, idKind: directKind(id), tables };
}

function fastTable(table: CompiledTable, index: number, types: readonly BinaryType[] | undefined): FastTable {
  const position = new Map(table.columnNames.map((name, i) => [name, i]));
  const at = (name: string): number => {
    const i = position.get(name);
    if (i === undefined) throw new TypeError(`table ${table.name} has no column ${name}`);
    return i;
  };
  const width = table.columnNames.length;
  return {
    index,
    binary: types !== undefined,
    types: types ?? [],
    shape: table.shape,
    root: { kind: 'object', keys: new KeyTable([]), groups: [], stamp: 0 },
    width,
    extra: at(EXTRA_COLUMN),
    structural: [...table.parentColumns, ...(table.ordinal === undefined ? [] : [table.ordinal])].map(at),
    required: table.codecs.filter((c) => !c.column.nullable).map((c) => at(c.column.name)),
    starts: new Int32Array(width),
    ends: new Int32Array(width),
  };
}

function fastNode(
  node: ShapeNode,
  table: CompiledTable,
  childTable: (child: CompiledTable) => FastTable,
): FastNode {
  switch (node.kind) {
    case 'object':
      return {
        kind: 'object',
        keys: new KeyTable(
          [...node.children].map(([key, sub]) => [
            key,
            { node: fastNode(sub, table, childTable), safe: isSafeKey(key) },
          ]),
        ),
        groups: node.groups.map((group) => ({
          idKey: group.idKey,
          kindKey: group.kindKey,
          kinds: group.plan.kinds,
          kindColumn: table.columnNames.indexOf(group.plan.columns.kind),
          idColumn: table.columnNames.indexOf(group.plan.columns.id),
          refColumn: table.columnNames.indexOf(group.plan.columns.ref),
        })),
        stamp: 0,
      };
    case 'column': {
      const codec = node.codec;
      return {
        kind: 'column',
        codec,
        column: table.columnNames.indexOf(codec.column.name),
        text: codec.column.sourceType === 'string' && !codec.type.array,
        textArray: codec.column.sourceType === 'string' && codec.type.array && codec.type.base === 'text',
        direct: directKind(codec),
        plain: !codec.type.array && PLAIN_SOURCES.has(codec.column.sourceType),
        stamp: 0,
      };
    }
    case 'child':
      return { kind: 'child', table: childTable(node.table), stamp: 0 };
    case 'poly':
      return { kind: 'poly', stamp: 0 };
  }
}
