import { debugEnabled } from '../core/debug.js';
import { FerryError } from '../core/errors.js';
import { readSmallDecimal128, type SmallDecimalParts } from '../mapping/decimal-parts.js';
import { parseTimestamptz } from '../mapping/pg-text.js';
import { parsePgType, type ScalarPgType } from '../mapping/pg-types.js';
import type { RowValue, RowValues } from '../mapping/row-values.js';
import type { TextSink } from './text-sink.js';

/**
 * PostgreSQL's binary COPY format for the row values of row-values.ts, used instead of text
 * into a PostgreSQL server: PostgreSQL then reads each value as it stores it instead of
 * parsing text (about a fifth of its CPU time per document in the backfill benchmark).
 */

/** The file header: signature, flags, header-extension length. */
export const COPY_BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/** The file trailer: a field count of -1. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** A column's type as the binary format needs it: the base type, and whether it is an array of it. */
export interface BinaryType {
  readonly base: ScalarPgType;
  readonly array: boolean;
}

/**
 * The types of a table's columns when every one can go in binary format, else undefined.
 * Every type of the plan vocabulary (pg-types.ts) and every one-dimensional array of one has
 * a binary form here (`ELEMENT_OIDS` names them all); what does not parse (a parent key of
 * unknown type) keeps its table in text.
 *
 * @example
 * binaryColumnTypes(['uuid', 'numeric(12,2)', 'text[]'])
 * // [{ base: 'uuid', array: false }, { base: 'numeric', array: false }, { base: 'text', array: true }]
 */
export function binaryColumnTypes(pgTypes: readonly string[]): BinaryType[] | undefined {
  const out: BinaryType[] = [];
  for (const text of pgTypes) {
    const parsed = parsePgType(text);
    if (!parsed.ok) return undefined;
    out.push({ base: parsed.type.base, array: parsed.type.array });
  }
  return out;
}

/** Element type OIDs of the binary array header: built-in types, the same in every database. */
const ELEMENT_OIDS: Readonly<Record<ScalarPgType, number>> = {
  uuid: 2950,
  text: 25,
  integer: 23,
  bigint: 20,
  'double precision': 701,
  numeric: 1700,
  boolean: 16,
  timestamptz: 1184,
  bytea: 17,
  jsonb: 3802,
};

/**
 * One row in binary format: the field count, then each field's length (-1 for NULL) and bytes.
 *
 * @example
 * const sink = new TextSink();
 * writeBinaryRow(sink, { id: 1, name: null }, ['id', 'name'], binaryColumnTypes(['integer', 'text'])!)
 * // <00 02 | 00 00 00 04 00 00 00 01 | ff ff ff ff>
 */
export function writeBinaryRow(
  sink: TextSink,
  row: RowValues,
  columns: readonly string[],
  types: readonly BinaryType[],
): void {
  sink.reserve(2);
  sink.length = sink.bytes.writeInt16BE(columns.length, sink.length);
  for (let i = 0; i < columns.length; i++) {
    const value = row[columns[i]!];
    if (value === undefined) throw new Error(`row has no value for column "${columns[i]}"`);
    writeBinaryField(sink, types[i]!, value);
  }
}

/** A field (of a row, or an element of an array): its length, -1 for NULL, then its bytes. */
function writeBinaryField(sink: TextSink, type: BinaryType, value: RowValue): void {
  sink.reserve(4);
  const lengthAt = sink.length;
  sink.length += 4;
  if (value === null) {
    sink.bytes.writeInt32BE(-1, lengthAt);
    return;
  }
  writeBinaryValue(sink, type, value);
  sink.bytes.writeInt32BE(sink.length - lengthAt - 4, lengthAt);
}

/**
 * A non-null row value in its binary form, appended to the sink, for a column of type `type`.
 * Throws for a value that is not the row representation of that type: a bug upstream.
 */
export function writeBinaryValue(sink: TextSink, type: BinaryType, value: RowValue): void {
  if (type.array) writeBinaryArray(sink, type.base, value);
  else writeBinaryScalar(sink, type.base, value);
}

/**
 * A one-dimensional array (what `toRows` makes: a nested array goes to `_extra` whole):
 * dimensions, a has-nulls flag and the element type, then each element like a field. An
 * empty array has no dimensions.
 */
function writeBinaryArray(sink: TextSink, base: ScalarPgType, value: RowValue): void {
  if (!Array.isArray(value)) throw new Error(`a ${base}[] row value must be an array`);
  const values = value as readonly RowValue[];
  writeBinaryArrayHeader(sink, base, values.length, values.includes(null));
  const elementType = { base, array: false };
  for (const element of values) {
    if (Array.isArray(element)) throw new Error(`a ${base}[] row value must have one dimension`);
    writeBinaryField(sink, elementType, element);
  }
}

/**
 * A one-dimensional binary array's header: dimensions, the has-nulls flag, the element type,
 * then (when not empty) the length and the lower bound 1. The elements follow, each like a
 * field (length, bytes).
 *
 * @example
 * const sink = new TextSink();
 * writeBinaryArrayHeader(sink, 'text', 2, false);   // <1 | 0 | 25 | 2 | 1>, then two elements
 */
export function writeBinaryArrayHeader(
  sink: TextSink,
  base: ScalarPgType,
  length: number,
  hasNull: boolean,
): void {
  const dimensions = length === 0 ? 0 : 1;
  sink.reserve(20);
  let at = sink.bytes.writeInt32BE(dimensions, sink.length);
  at = sink.bytes.writeInt32BE(hasNull ? 1 : 0, at);
  at = sink.bytes.writeInt32BE(ELEMENT_OIDS[base], at);
  if (dimensions === 1) {
    at = sink.bytes.writeInt32BE(length, at);
    at = sink.bytes.writeInt32BE(1, at); // lower bound
  }
  sink.length = at;
}

function writeBinaryScalar(sink: TextSink, type: ScalarPgType, value: RowValue): void {
  switch (type) {
    case 'uuid':
      writeUuid(sink, expect(value, 'string', type));
      return;
    case 'text':
      sink.writeString(expect(value, 'string', type));
      return;
    case 'jsonb':
      sink.writeByte(1); // the jsonb binary format's version
      sink.writeString(expect(value, 'string', type));
      return;
    case 'integer':
      sink.reserve(4);
      sink.length = sink.bytes.writeInt32BE(Number(value), sink.length);
      return;
    case 'bigint':
      sink.reserve(8);
      sink.length = sink.bytes.writeBigInt64BE(BigInt(value as string | number), sink.length);
      return;
    case 'double precision':
      sink.reserve(8);
      sink.length = sink.bytes.writeDoubleBE(Number(value), sink.length);
      return;
    case 'boolean':
      sink.writeByte(expect(value, 'boolean', type) ? 1 : 0);
      return;
    case 'timestamptz': {
      const ms = parseTimestamptz(expect(value, 'string', type));
      if (ms === undefined) throw badRowValue(String(value), 'a timestamptz row value');
      writeTimestamptzMicros(sink, ms);
      return;
    }
    case 'numeric':
      writeNumeric(sink, String(value));
      return;
    case 'bytea':
      if (!Buffer.isBuffer(value)) throw new Error('a bytea row value must be a Buffer');
      sink.writeBytes(value, 0, value.length);
      return;
  }
}

/** PostgreSQL's epoch, 2000-01-01, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4294967296;

/**
 * A timestamptz as microseconds since 2000-01-01 UTC, a big-endian int64, computed in two
 * 32-bit halves: the product exceeds 2^53, so a double would round it.
 */
export function writeTimestamptzMicros(sink: TextSink, ms: number): void {
  const relative = ms - PG_EPOCH_MS;
  const high = Math.floor(relative / TWO_32);
  const lowMicros = (relative - high * TWO_32) * 1000;
  const carry = Math.floor(lowMicros / TWO_32);
  sink.reserve(8);
  const at = sink.bytes.writeInt32BE(high * 1000 + carry, sink.length);
  sink.length = sink.bytes.writeUInt32BE(lowMicros - carry * TWO_32, at);
}

/** A uuid's 32 hex digits (hyphens skipped) as its 16 bytes. */
function writeUuid(sink: TextSink, text: string): void {
  sink.reserve(16);
  const out = sink.bytes;
  let o = sink.length;
  let high = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2d) continue;
    const nibble = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
    if (high < 0) high = nibble;
    else {
      out[o++] = (high << 4) | nibble;
      high = -1;
    }
  }
  if (o - sink.length !== 16) throw badRowValue(text, 'a uuid row value');
  sink.length = o;
}

const NUMERIC_POSITIVE = 0x0000;
const NUMERIC_NEGATIVE = 0x4000;
const NUMERIC_SPECIAL: Readonly<Record<string, number>> = {
  NaN: 0xc000,
  Infinity: 0xd000,
  '-Infinity': 0xf000,
};

/**
 * Numeric text in positional notation (`-1234.5600`, what `encodeColumn` writes) as
 * PostgreSQL's binary numeric: digit count, weight, sign and display scale, then base-10000
 * digits with leading and trailing zero digits dropped. The display scale keeps the text's
 * fraction digits, so `1.50` stays `1.50`.
 *
 * @example
 * const sink = new TextSink();
 * writeNumeric(sink, '-12345.678')   // ndigits 3, weight 1, sign 0x4000, dscale 3, digits 1, 2345, 6780
 */
export function writeNumeric(sink: TextSink, text: string): void {
  const special = NUMERIC_SPECIAL[text];
  if (special !== undefined) {
    writeNumericHeader(sink, 0, 0, special, 0);
    return;
  }
  const negative = text.charCodeAt(0) === 0x2d;
  const from = negative ? 1 : 0;
  const point = text.indexOf('.');
  const wholeEnd = point < 0 ? text.length : point;
  const scale = point < 0 ? 0 : text.length - point - 1;
  if (
    wholeEnd === from ||
    !/^\d*$/.test(text.slice(from, wholeEnd)) ||
    !/^\d*$/.test(text.slice(wholeEnd + 1))
  )
    throw badRowValue(text, 'positional numeric text');
  // The digits zero-padded to whole groups of four on both sides of the point.
  const whole = text.slice(from, wholeEnd);
  const fraction = point < 0 ? '' : text.slice(point + 1);
  const wholeGroups = Math.ceil(whole.length / 4);
  const digits =
    '0'.repeat(wholeGroups * 4 - whole.length) +
    whole +
    fraction +
    '0'.repeat(Math.ceil(scale / 4) * 4 - scale);
  const groups = digits.length / 4;
  let first = 0;
  while (first < groups && digitGroup(digits, first) === 0) first++;
  let last = groups;
  while (last > first && digitGroup(digits, last - 1) === 0) last--;
  // Zero has no digits; PostgreSQL writes it with weight 0 and a positive sign.
  if (first === last) {
    writeNumericHeader(sink, 0, 0, NUMERIC_POSITIVE, scale);
    return;
  }
  const sign = negative ? NUMERIC_NEGATIVE : NUMERIC_POSITIVE;
  writeNumericHeader(sink, last - first, wholeGroups - 1 - first, sign, scale);
  sink.reserve(2 * (last - first));
  for (let g = first; g < last; g++)
    sink.length = sink.bytes.writeInt16BE(digitGroup(digits, g), sink.length);
}

/** The base-10000 digit made of decimal digits 4g … 4g+3. */
function digitGroup(digits: string, g: number): number {
  const at = 4 * g;
  return (
    (digits.charCodeAt(at) - 0x30) * 1000 +
    (digits.charCodeAt(at + 1) - 0x30) * 100 +
    (digits.charCodeAt(at + 2) - 0x30) * 10 +
    (digits.charCodeAt(at + 3) - 0x30)
  );
}

/**
 * `writeNumeric(sink, decimalText(d))` for a Decimal128 `d` read straight from its 16 BID
 * bytes at `at`, without the text in between: every amount of money of a sales document went
 * through two strings, two regular expressions and a padded copy before. Only for a finite
 * value whose coefficient, scaled to whole base-10000 digits, stays below 2^53 (every real
 * amount); false for anything else, which the caller encodes the general way.
 * copy-binary.test.ts pins it to that general way.
 *
 * @example
 * import { Decimal128 } from 'bson';
 * const sink = new TextSink();
 * writeDecimal128Numeric(sink, Decimal128.fromString('-12345.678').bytes, 0)   // true; as writeNumeric(sink, '-12345.678')
 */
export function writeDecimal128Numeric(sink: TextSink, bytes: Uint8Array, at: number): boolean {
  if (!readSmallDecimal128(bytes, at, SMALL)) return false;
  const { coefficient, exponent } = SMALL;
  // decimalText keeps every fraction digit the exponent gives (the display scale), and
  // writes a positive exponent out as zeros (scale 0).
  const scale = exponent < 0 ? -exponent : 0;
  // Align the coefficient to whole base-10000 digits: `aligned` × 10000^lowWeight is the value.
  const shift = exponent < 0 ? (4 - (scale % 4)) % 4 : exponent % 4;
  const lowWeight = exponent < 0 ? -(scale + shift) / 4 : (exponent - shift) / 4;
  let aligned = coefficient * 10 ** shift;
  if (aligned > Number.MAX_SAFE_INTEGER) return false;
  if (aligned === 0) {
    writeNumericHeader(sink, 0, 0, NUMERIC_POSITIVE, scale);
    return true;
  }
  let groups = 0;
  let lowest = -1;
  for (; aligned > 0; groups++) {
    const digit = aligned % 10000;
    DIGIT_GROUPS[groups] = digit;
    if (lowest < 0 && digit !== 0) lowest = groups;
    aligned = (aligned - digit) / 10000;
  }
  const sign = SMALL.negative ? NUMERIC_NEGATIVE : NUMERIC_POSITIVE;
  writeNumericHeader(sink, groups - lowest, lowWeight + groups - 1, sign, scale);
  sink.reserve(2 * (groups - lowest));
  for (let g = groups - 1; g >= lowest; g--)
    sink.length = sink.bytes.writeInt16BE(DIGIT_GROUPS[g]!, sink.length);
  return true;
}

/** Base-10000 digits of one aligned coefficient, lowest first (below 2^53: at most 4). */
const DIGIT_GROUPS = new Uint16Array(8);

const SMALL: SmallDecimalParts = { negative: false, coefficient: 0, exponent: 0 };

function writeNumericHeader(
  sink: TextSink,
  ndigits: number,
  weight: number,
  sign: number,
  dscale: number,
): void {
  sink.reserve(8);
  const out = sink.bytes;
  let at = out.writeInt16BE(ndigits, sink.length);
  at = out.writeInt16BE(weight, at);
  at = out.writeUInt16BE(sign, at);
  sink.length = out.writeInt16BE(dscale, at);
}

/**
 * A row value that has no binary form for its column: a bug upstream, since `toRows` only
 * makes valid ones. The value itself is named only when `FERRY_DEBUG` is set, as for a
 * server's COPY error (target-error.ts): row values stay out of messages, which reach the
 * summary and the log.
 */
function badRowValue(value: string, what: string): FerryError {
  const debug = debugEnabled();
  return new FerryError(`${debug ? `"${value}"` : 'a row value'} is not ${what}`, {
    code: 'TARGET_BAD_ROW_VALUE',
    category: 'internal',
    ...(debug ? {} : { hint: 'set FERRY_DEBUG=1 to include the row value in this message' }),
  });
}

function expect<K extends 'string' | 'boolean'>(
  value: RowValue,
  kind: K,
  type: ScalarPgType,
): K extends 'string' ? string : boolean {
  if (typeof value !== kind) throw new Error(`a ${type} row value must be a ${kind}, got ${typeof value}`);
  return value as K extends 'string' ? string : boolean;
}
