import type { Binary, BSONRegExp, Code, DBRef, Document, ObjectId, Timestamp } from 'bson';
import { FerryError } from '../../core/errors.js';
import type { NumericValue } from './number.js';

/**
 * What a value is for the canonical comparison. Two values can only be equal when their kinds
 * are equal; all BSON numeric types share the kind `number` (they compare by exact value).
 *
 * Decisions (DESIGN.md invariant 4, "every other BSON type compares by type and value"):
 * - `undefined` is the BSON `undefined` type (0x06), as `BSON.deserialize` gives it: a key whose
 *   value is `undefined` is present (not missing), and equals neither null nor a missing key.
 *   Only an absent key (`Object.hasOwn` false) is missing. A deprecated type, but real dumps
 *   hold it, and invariant 2 forbids dropping it silently.
 * - `DBRef` is the document `{ $ref, $id, $db?, …fields }` it is stored as.
 * - `UUID` is `Binary` subtype 4; a `Uint8Array`/`Buffer` is `Binary` subtype 0.
 * - A JS `RegExp` and a `BSONRegExp` are both `regex`; flags compare as a set (order and
 *   repeats ignored) because MongoDB stores them sorted and their order carries no meaning.
 * - `BSONSymbol` is not a string, and `Code` with a scope is not `Code` without one (distinct
 *   BSON types). `Timestamp` is not a number.
 * - Strings compare by code points (the same as by UTF-16 units for equality).
 */
export type CanonicalKind =
  | 'null'
  | 'undefined'
  | 'boolean'
  | 'number'
  | 'string'
  | 'object'
  | 'array'
  | 'objectId'
  | 'date'
  | 'binary'
  | 'timestamp'
  | 'regex'
  | 'minKey'
  | 'maxKey'
  | 'code'
  | 'symbol';

/** A value already classified, with the part the comparison and the encoder need. */
export type Classified =
  | { readonly kind: 'null' }
  | { readonly kind: 'undefined' }
  | { readonly kind: 'minKey' }
  | { readonly kind: 'maxKey' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'symbol'; readonly value: string }
  | { readonly kind: 'number'; readonly value: NumericValue }
  | { readonly kind: 'object'; readonly value: Document }
  | { readonly kind: 'array'; readonly value: readonly unknown[] }
  | { readonly kind: 'objectId'; readonly value: ObjectId }
  | { readonly kind: 'date'; readonly value: number }
  | { readonly kind: 'binary'; readonly subtype: number; readonly bytes: Uint8Array }
  | { readonly kind: 'timestamp'; readonly t: number; readonly i: number }
  | { readonly kind: 'regex'; readonly pattern: string; readonly flags: string }
  | { readonly kind: 'code'; readonly code: string; readonly scope: Document | null };

const NULL: Classified = { kind: 'null' };
const UNDEFINED: Classified = { kind: 'undefined' };
const MIN_KEY: Classified = { kind: 'minKey' };
const MAX_KEY: Classified = { kind: 'maxKey' };

/**
 * Classify any value a document may hold. Throws `CANONICAL_UNSUPPORTED_VALUE` for values no
 * BSON document can contain (functions, symbols, Maps, class instances).
 *
 * @example
 * import { BSONRegExp, Int32, UUID } from 'bson';
 * classify(new Int32(5)).kind;          // 'number'
 * classify(new UUID()).kind;            // 'binary' (subtype 4)
 * classify(new BSONRegExp('a', 'mi'));  // { kind: 'regex', pattern: 'a', flags: 'im' }
 */
export function classify(value: unknown, path = ''): Classified {
  switch (typeof value) {
    case 'string':
      return { kind: 'string', value };
    case 'number':
    case 'bigint':
      return { kind: 'number', value };
    case 'boolean':
      return { kind: 'boolean', value };
    case 'undefined':
      return UNDEFINED;
    case 'object':
      if (value === null) return NULL;
      return classifyObject(value, path);
    default:
      throw unsupported(typeof value, path);
  }
}

function classifyObject(value: object, path: string): Classified {
  if (Array.isArray(value)) return { kind: 'array', value };
  const tag = (value as { _bsontype?: unknown })._bsontype;
  if (typeof tag === 'string') return classifyBson(tag, value, path);
  if (value instanceof Date) return { kind: 'date', value: value.getTime() };
  if (value instanceof RegExp)
    return { kind: 'regex', pattern: value.source, flags: normalizeFlags(value.flags) };
  if (value instanceof Uint8Array) return { kind: 'binary', subtype: 0, bytes: value };
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return { kind: 'object', value: value as Document };
  throw unsupported(proto?.constructor?.name ?? 'object', path);
}

function classifyBson(tag: string, value: object, path: string): Classified {
  switch (tag) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return { kind: 'number', value: value as NumericValue };
    case 'ObjectId':
      return { kind: 'objectId', value: value as ObjectId };
    case 'Binary': {
      const binary = value as Binary;
      return { kind: 'binary', subtype: binary.sub_type, bytes: binary.buffer.subarray(0, binary.position) };
    }
    case 'Timestamp': {
      const ts = value as Timestamp;
      return { kind: 'timestamp', t: ts.t, i: ts.i };
    }
    case 'BSONRegExp': {
      const re = value as BSONRegExp;
      return { kind: 'regex', pattern: re.pattern, flags: normalizeFlags(re.options) };
    }
    case 'MinKey':
      return MIN_KEY;
    case 'MaxKey':
      return MAX_KEY;
    case 'Code': {
      const code = value as Code;
      return { kind: 'code', code: code.code, scope: code.scope ?? null };
    }
    case 'BSONSymbol':
      return { kind: 'symbol', value: (value as { value: string }).value };
    case 'DBRef':
      return { kind: 'object', value: dbrefDocument(value as DBRef) };
    default:
      throw unsupported(`BSON ${tag}`, path);
  }
}

/** The document a DBRef is stored as; `toJSON()` would also do it but re-wraps `$id`. */
function dbrefDocument(ref: DBRef): Document {
  const doc: Document = { $ref: ref.collection, $id: ref.oid };
  if (ref.db !== undefined && ref.db !== '') doc.$db = ref.db;
  return Object.assign(doc, ref.fields);
}

/** Regex flags as a sorted set, so `'mi'`, `'im'` and `'imi'` are one value. */
export function normalizeFlags(flags: string): string {
  if (flags.length <= 1) return flags;
  return [...new Set(flags)].sort().join('');
}

function unsupported(what: string, path: string): FerryError {
  return new FerryError(`cannot compare a ${what}: no BSON document can hold one`, {
    code: 'CANONICAL_UNSUPPORTED_VALUE',
    category: 'input',
    ...(path ? { where: { path } } : {}),
    hint: 'pass documents as the sources produce them (bson values, plain objects and arrays)',
  });
}
