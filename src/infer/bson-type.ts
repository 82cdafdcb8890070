/**
 * The BSON type of a value in Ferry's document representation (see src/sources/types.ts).
 * Names are MongoDB's own `$type` aliases so a report reads like the Mongo docs; `dbRef` is
 * added because Extended JSON turns `{ $ref, $id }` into a `DBRef` object.
 */
export type BsonTypeName =
  | 'objectId'
  | 'string'
  | 'int'
  | 'long'
  | 'double'
  | 'decimal'
  | 'bool'
  | 'date'
  | 'null'
  | 'object'
  | 'array'
  | 'binData'
  | 'timestamp'
  | 'regex'
  | 'dbRef'
  | 'dbPointer'
  | 'javascript'
  | 'javascriptWithScope'
  | 'symbol'
  | 'undefined'
  | 'minKey'
  | 'maxKey';

/**
 * Every type name in the fixed order snapshots use, so two runs print identical JSON.
 *
 * @example
 * BSON_TYPE_NAMES.indexOf('int') < BSON_TYPE_NAMES.indexOf('double'); // true
 */
export const BSON_TYPE_NAMES: readonly BsonTypeName[] = [
  'objectId',
  'string',
  'int',
  'long',
  'double',
  'decimal',
  'bool',
  'date',
  'null',
  'object',
  'array',
  'binData',
  'timestamp',
  'regex',
  'dbRef',
  'dbPointer',
  'javascript',
  'javascriptWithScope',
  'symbol',
  'undefined',
  'minKey',
  'maxKey',
];

// The `_bsontype` tag the bson package puts on its wrapper classes. A tag check survives two
// copies of the bson package in node_modules, where `instanceof` would not.
const BY_TAG: Readonly<Record<string, BsonTypeName>> = {
  ObjectId: 'objectId',
  ObjectID: 'objectId',
  Int32: 'int',
  Long: 'long',
  Double: 'double',
  Decimal128: 'decimal',
  Binary: 'binData',
  Timestamp: 'timestamp',
  BSONRegExp: 'regex',
  DBRef: 'dbRef',
  DBPointer: 'dbPointer',
  Code: 'javascript',
  BSONSymbol: 'symbol',
  Symbol: 'symbol',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
};

/**
 * Classify one value. Plain JS numbers (a relaxed reader, a hand-built document) are
 * classified the way `BSON.serialize` would store them: an integer that fits int32 is `int`,
 * anything else `double`; a `bigint` is `long`.
 *
 * @example
 * import { Code, Int32 } from 'bson';
 * bsonTypeOf(new Int32(5)); // 'int'
 * bsonTypeOf(new Code('f()', { a: 1 })); // 'javascriptWithScope'
 */
export function bsonTypeOf(value: unknown): BsonTypeName {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff ? 'int' : 'double';
    case 'bigint':
      return 'long';
    case 'undefined':
      return 'undefined';
    case 'object':
      break;
    default:
      // Functions and symbols cannot come out of a BSON or JSON reader; calling them
      // javascript/symbol is the nearest honest name.
      return typeof value === 'function' ? 'javascript' : 'symbol';
  }
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  const tag = (value as { _bsontype?: unknown })._bsontype;
  if (typeof tag === 'string') {
    const name = BY_TAG[tag];
    if (name === 'javascript') {
      const scope = (value as { scope?: unknown }).scope;
      return scope === null || scope === undefined ? 'javascript' : 'javascriptWithScope';
    }
    if (name) return name;
  }
  if (value instanceof Uint8Array) return 'binData';
  return 'object';
}
