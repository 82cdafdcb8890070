import { Binary, type Decimal128, Double, Int32, Long, type ObjectId } from 'bson';
import { canonicalEqual } from './canonical/index.js';
import { objectIdToUuid, uuidToObjectId } from './identity.js';
import { decodeJson, encodeJson, jsonText } from './json-value.js';
import type { ColumnPlan } from './model.js';
import {
  decimalFromText,
  decimalText,
  doubleText,
  exactDoubleDecimalText,
  numericShape,
  parseTimestamptz,
  timestamptzText,
} from './pg-text.js';
import { type PgTypeInfo, parsePgType, type ScalarPgType, type SourceType } from './pg-types.js';
import { checkString, rejectAt } from './reject.js';
import type { RowValue } from './row-values.js';
import type { Transform } from './transforms.js';

/** A column ready to encode and decode values: the plan's column plus its parsed type. */
export interface ColumnCodec {
  readonly column: ColumnPlan;
  readonly type: PgTypeInfo;
  readonly transform: Transform | undefined;
}

/** Returned by `encodeColumn` when the value is not of the column's type: it goes to `_extra`. */
export const MISMATCH: unique symbol = Symbol('mismatch');

/**
 * A value as the row value of its column, or `MISMATCH` when the column cannot hold it
 * exactly (a different BSON type, a number that does not fit, null). Rejects (by throwing
 * `RejectSignal`) only what no place in PostgreSQL can hold: NUL, lone surrogates, dates
 * outside timestamptz.
 */
export function encodeColumn(
  codec: ColumnCodec,
  value: unknown,
  path: (string | number)[],
): RowValue | typeof MISMATCH {
  if (value === null || value === undefined) return MISMATCH;
  if (codec.transform === undefined) return encodeValue(codec.type, codec.column.sourceType, value, path);
  return encodeTransformed(codec, codec.transform, value, path);
}

function encodeTransformed(
  codec: ColumnCodec,
  transform: Transform,
  value: unknown,
  path: (string | number)[],
): RowValue {
  const name = codec.column.transform;
  let stored: unknown;
  let back: unknown;
  try {
    stored = transform.toColumn(value);
    back = stored === null || stored === undefined ? stored : transform.fromColumn(stored);
  } catch (error) {
    return rejectAt('TRANSFORM_FAILED', path, `transform "${name}" threw: ${(error as Error).message}`);
  }
  const encoded =
    stored === null || stored === undefined
      ? MISMATCH
      : encodeValue(codec.type, codec.column.sourceType, stored, path);
  if (encoded === MISMATCH)
    return rejectAt(
      'TRANSFORM_FAILED',
      path,
      `transform "${name}" returned a value column "${codec.column.name}" (${codec.column.pgType}, ${codec.column.sourceType}) cannot hold`,
    );
  if (!canonicalEqual(back, value))
    return rejectAt(
      'TRANSFORM_NOT_REVERSIBLE',
      path,
      `transform "${name}": fromColumn(toColumn(value)) differs from the value, so the document could not be restored`,
    );
  return encoded;
}

function encodeValue(
  type: PgTypeInfo,
  sourceType: SourceType,
  value: unknown,
  path: (string | number)[],
): RowValue | typeof MISMATCH {
  if (!type.array) return encodeScalar(type, sourceType, value, path);
  if (!Array.isArray(value)) return MISMATCH;
  const out: RowValue[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (item === null) {
      out[i] = null;
      continue;
    }
    // An array column has no element for BSON undefined: the whole array goes to `_extra`.
    if (item === undefined) return MISMATCH;
    path.push(i);
    const encoded = encodeScalar(type, sourceType, item, path);
    path.pop();
    if (encoded === MISMATCH) return MISMATCH;
    out[i] = encoded;
  }
  return out;
}

function bsonType(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

function isPlainObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && bsonType(value) === undefined;
}

function encodeScalar(
  type: PgTypeInfo,
  sourceType: SourceType,
  value: unknown,
  path: (string | number)[],
): RowValue | typeof MISMATCH {
  switch (sourceType) {
    case 'objectId':
      return bsonType(value) === 'ObjectId' ? objectIdToUuid(value as ObjectId) : MISMATCH;
    case 'string':
      if (typeof value !== 'string') return MISMATCH;
      checkString(value, path);
      return value;
    case 'bool':
      return typeof value === 'boolean' ? value : MISMATCH;
    case 'date': {
      if (!(value instanceof Date)) return MISMATCH;
      const text = timestamptzText(value);
      if (text === undefined)
        rejectAt(
          'DATE_OUT_OF_RANGE',
          path,
          `date ${Number.isNaN(value.getTime()) ? '(invalid)' : `${value.getTime()} ms`} is outside PostgreSQL timestamptz (4714-11-24 BC … 294276 AD); it is never shifted into range`,
        );
      return text;
    }
    case 'binData':
      return bsonType(value) === 'Binary' && (value as Binary).sub_type === 0
        ? Buffer.from((value as Binary).buffer.subarray(0, (value as Binary).position))
        : MISMATCH;
    case 'object':
      return isPlainObject(value) ? jsonText(encodeJson(value, path)) : MISMATCH;
    case 'array':
      return Array.isArray(value) ? jsonText(encodeJson(value, path)) : MISMATCH;
    case 'any':
      return jsonText(encodeJson(value, path));
    case 'int':
    case 'long':
    case 'double':
    case 'decimal':
      return bsonType(value) === NUMBER_TAG[sourceType] ? encodeNumber(type, value) : MISMATCH;
    case 'number':
      return encodeNumber(type, value);
  }
}

const NUMBER_TAG = { int: 'Int32', long: 'Long', double: 'Double', decimal: 'Decimal128' } as const;

const INT64_LIMIT = 2 ** 63;
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/**
 * Any BSON number in a numeric column, when the column holds its exact value; `sourceType`
 * has already said which BSON types are allowed. A value that would be rounded, overflow, or
 * lose its sign is a MISMATCH and goes to `_extra` whole.
 */
function encodeNumber(type: PgTypeInfo, value: unknown): RowValue | typeof MISMATCH {
  const tag = bsonType(value);
  switch (type.base) {
    case 'integer':
      return tag === 'Int32' ? (value as Int32).value : MISMATCH;
    case 'bigint':
      if (tag === 'Int32' || tag === 'Long') return String(tag === 'Int32' ? (value as Int32).value : value);
      if (tag === 'Double') {
        const x = (value as Double).value;
        return Number.isInteger(x) && !Object.is(x, -0) && Math.abs(x) < INT64_LIMIT
          ? BigInt(x).toString()
          : MISMATCH;
      }
      return MISMATCH;
    case 'double precision':
      if (tag === 'Int32' || tag === 'Double') return doubleText((value as Int32 | Double).value);
      if (tag === 'Long') {
        const n = (value as Long).toBigInt();
        return n >= -(2n ** 53n) && n <= 2n ** 53n ? n.toString() : MISMATCH;
      }
      return MISMATCH;
    case 'numeric': {
      const text =
        tag === 'Int32'
          ? String((value as Int32).value)
          : tag === 'Long'
            ? (value as Long).toString()
            : tag === 'Decimal128'
              ? decimalText(value as Decimal128)
              : tag === 'Double'
                ? exactDoubleDecimalText((value as Double).value)
                : undefined;
      if (text === undefined) return MISMATCH;
      return fitsNumeric(type, text) ? text : MISMATCH;
    }
    default:
      return MISMATCH;
  }
}

/** Whether `numeric(p,s)` stores this text without rounding or overflow. */
function fitsNumeric(type: PgTypeInfo, text: string): boolean {
  if (type.precision === undefined) return true;
  const shape = numericShape(text);
  // NaN fits any numeric; ±Infinity fits only an unconstrained one.
  if (shape === undefined) return text === 'NaN';
  const scale = type.scale ?? 0;
  return shape.scale <= scale && shape.integerDigits <= type.precision - scale;
}

/**
 * A row value read back from PostgreSQL (through `ferryTypes`, see pg-parsers.ts) to the BSON
 * value of the column's declared type: `integer` → Int32, `bigint` → Long, `double
 * precision` → Double, `numeric` → Decimal128, unless the column declares a narrower BSON
 * type (an `int` in a `bigint` column comes back as Int32).
 */
export function decodeColumn(codec: ColumnCodec, raw: RowValue): unknown {
  const value = decodeValue(codec.type, codec.column.sourceType, raw);
  return codec.transform === undefined ? value : codec.transform.fromColumn(value);
}

function decodeValue(type: PgTypeInfo, sourceType: SourceType, raw: RowValue): unknown {
  if (!type.array) return decodeScalar(type.base, sourceType, raw);
  if (!Array.isArray(raw)) throw new TypeError(`expected an array for ${type.base}[], got ${typeof raw}`);
  return raw.map((item) => (item === null ? null : decodeScalar(type.base, sourceType, item)));
}

function decodeScalar(base: ScalarPgType, sourceType: SourceType, raw: RowValue): unknown {
  switch (base) {
    case 'uuid':
      return uuidToObjectId(String(raw));
    case 'text':
      return String(raw);
    case 'boolean':
      return raw === true || raw === 't' || raw === 'true';
    case 'timestamptz': {
      const text = String(raw);
      // Sub-millisecond digits: another writer stored them in a column made before Ferry
      // created dates as timestamptz(3), or in one declared with more digits. No BSON date
      // holds them, so the date is truncated to its millisecond (never rounded up into the
      // next one); refusing it would leave the entity unreadable for good.
      const ms = parseTimestamptz(text) ?? parseTimestamptz(text.replace(/(\.\d{3})\d+/, '$1'));
      if (ms === undefined) throw new TypeError(`timestamptz text "${text}" is not one Ferry writes`);
      return new Date(ms);
    }
    case 'bytea':
      return new Binary(toBuffer(raw), 0);
    case 'jsonb':
      return decodeJson(JSON.parse(String(raw)));
    case 'integer':
    case 'bigint':
    case 'double precision':
    case 'numeric':
      return decodeNumber(base, sourceType, String(raw));
  }
}

function decodeNumber(base: ScalarPgType, sourceType: SourceType, text: string): unknown {
  const as = sourceType === 'number' ? NATURAL[base] : sourceType;
  switch (as) {
    case 'int': {
      const n = Number(text);
      if (!Number.isInteger(n) || n > INT32_MAX || n < INT32_MIN)
        throw new TypeError(`"${text}" is not an int32`);
      return new Int32(n);
    }
    case 'long':
      // A numeric(p,s) column prints `5.00` for 5.
      return Long.fromBigInt(BigInt(text.replace(/\.0*$/, '')));
    case 'double':
      return new Double(Number.parseFloat(text));
    default:
      return decimalFromText(text);
  }
}

const NATURAL: Partial<Record<ScalarPgType, SourceType>> = {
  integer: 'int',
  bigint: 'long',
  'double precision': 'double',
  numeric: 'decimal',
};

function toBuffer(raw: RowValue): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (raw instanceof Uint8Array) return Buffer.from(raw);
  // The hex text form (`\x0a0b`), as COPY or a driver without a bytea parser returns it.
  const text = String(raw);
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  throw new TypeError('bytea value is neither a Buffer nor hex text');
}

/** Build the codec of a plan column (the plan was validated, so its type parses). */
export function columnCodec(column: ColumnPlan, transform: Transform | undefined): ColumnCodec {
  const parsed = parsePgType(column.pgType);
  if (!parsed.ok) throw new TypeError(parsed.reason);
  return { column, type: parsed.type, transform };
}
