import { parseTimestamptz } from '../mapping/pg-text.js';
import { parsePgType, type ScalarPgType } from '../mapping/pg-types.js';
import type { RowValue, RowValues } from '../mapping/row-values.js';

/**
 * PostgreSQL's binary COPY format for the row values of row-values.ts, used instead of text
 * for tables whose columns are all of the scalar types below: PostgreSQL then reads each
 * value as it stores it instead of parsing text (about a fifth of its CPU time per document
 * in the backfill benchmark). Tables with arrays or unknown types stay in text format.
 */

/** The file header: signature, flags, header-extension length. */
export const COPY_BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);

/** The file trailer: a field count of -1. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

const BINARY_TYPES: ReadonlySet<string> = new Set<ScalarPgType>([
  'uuid',
  'text',
  'integer',
  'bigint',
  'double precision',
  'numeric',
  'boolean',
  'timestamptz',
  'jsonb',
  'bytea',
]);

/**
 * The base types of a table's columns when every one can go in binary format, else undefined.
 *
 * @example
 * binaryColumnTypes(['uuid', 'numeric(12,2)', 'jsonb'])   // ['uuid', 'numeric', 'jsonb']
 * binaryColumnTypes(['uuid', 'text[]'])                   // undefined
 */
export function binaryColumnTypes(pgTypes: readonly string[]): ScalarPgType[] | undefined {
  const out: ScalarPgType[] = [];
  for (const text of pgTypes) {
    const parsed = parsePgType(text);
    if (!parsed.ok || parsed.type.array || !BINARY_TYPES.has(parsed.type.base)) return undefined;
    out.push(parsed.type.base);
  }
  return out;
}

/**
 * One row in binary format: the field count, then each field's length (-1 for NULL) and bytes.
 *
 * @example
 * encodeBinaryRow({ id: 1, name: null }, ['id', 'name'], ['integer', 'text'])
 * // <00 02 | 00 00 00 04 00 00 00 01 | ff ff ff ff>
 */
export function encodeBinaryRow(
  row: RowValues,
  columns: readonly string[],
  types: readonly ScalarPgType[],
): Buffer {
  const fields: (Buffer | null)[] = columns.map((column, i) => {
    const value = row[column];
    if (value === undefined) throw new Error(`row has no value for column "${column}"`);
    return value === null ? null : binaryValue(types[i]!, value);
  });
  const size = 2 + fields.reduce((n, f) => n + 4 + (f?.length ?? 0), 0);
  const out = Buffer.allocUnsafe(size);
  out.writeInt16BE(columns.length, 0);
  let at = 2;
  for (const field of fields) {
    if (field === null) {
      out.writeInt32BE(-1, at);
      at += 4;
      continue;
    }
    out.writeInt32BE(field.length, at);
    field.copy(out, at + 4);
    at += 4 + field.length;
  }
  return out;
}

/**
 * A non-null row value as the bytes of its binary form, for a column of base type `type`.
 * Throws for a value that is not the row representation of that type: a bug upstream.
 */
export function binaryValue(type: ScalarPgType, value: RowValue): Buffer {
  switch (type) {
    case 'uuid':
      return Buffer.from(expect(value, 'string', type).replaceAll('-', ''), 'hex');
    case 'text':
      return Buffer.from(expect(value, 'string', type), 'utf8');
    case 'jsonb':
      return Buffer.concat([JSONB_VERSION, Buffer.from(expect(value, 'string', type), 'utf8')]);
    case 'integer': {
      const out = Buffer.allocUnsafe(4);
      out.writeInt32BE(Number(value));
      return out;
    }
    case 'bigint': {
      const out = Buffer.allocUnsafe(8);
      out.writeBigInt64BE(BigInt(value as string | number));
      return out;
    }
    case 'double precision': {
      const out = Buffer.allocUnsafe(8);
      out.writeDoubleBE(Number(value));
      return out;
    }
    case 'boolean':
      return Buffer.from([expect(value, 'boolean', type) ? 1 : 0]);
    case 'timestamptz': {
      const ms = parseTimestamptz(expect(value, 'string', type));
      if (ms === undefined) throw new Error(`"${String(value)}" is not a timestamptz row value`);
      return timestamptzBinary(ms);
    }
    case 'numeric':
      return numericBinary(String(value));
    case 'bytea':
      if (!Buffer.isBuffer(value)) throw new Error('a bytea row value must be a Buffer');
      return value;
  }
}

const JSONB_VERSION = Buffer.from([1]);

/** PostgreSQL's epoch, 2000-01-01, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;

/** A timestamptz as microseconds since 2000-01-01 UTC, big-endian int64. */
export function timestamptzBinary(ms: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(BigInt(ms - PG_EPOCH_MS) * 1000n);
  return out;
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
 * numericBinary('-12345.678')   // ndigits 3, weight 1, sign 0x4000, dscale 3, digits [1, 2345, 6780]
 */
export function numericBinary(text: string): Buffer {
  const special = NUMERIC_SPECIAL[text];
  if (special !== undefined) return numericHeader(0, 0, special, 0);
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null) throw new Error(`"${text}" is not positional numeric text`);
  const whole = m[2]!;
  const fraction = m[3] ?? '';
  const wholeGroups = Math.ceil(whole.length / 4);
  const padded =
    whole.padStart(wholeGroups * 4, '0') + fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
  const digits: number[] = [];
  for (let i = 0; i < padded.length; i += 4) digits.push(Number(padded.slice(i, i + 4)));
  let weight = wholeGroups - 1;
  let first = 0;
  while (first < digits.length && digits[first] === 0) {
    first++;
    weight--;
  }
  let last = digits.length;
  while (last > first && digits[last - 1] === 0) last--;
  const kept = digits.slice(first, last);
  // Zero has no digits; PostgreSQL writes it with weight 0 and a positive sign.
  if (kept.length === 0) return numericHeader(0, 0, NUMERIC_POSITIVE, fraction.length);
  const out = numericHeader(kept.length, weight, m[1] ? NUMERIC_NEGATIVE : NUMERIC_POSITIVE, fraction.length);
  kept.forEach((digit, i) => {
    out.writeInt16BE(digit, 8 + 2 * i);
  });
  return out;
}

function numericHeader(ndigits: number, weight: number, sign: number, dscale: number): Buffer {
  const out = Buffer.alloc(8 + 2 * ndigits);
  out.writeInt16BE(ndigits, 0);
  out.writeInt16BE(weight, 2);
  out.writeUInt16BE(sign, 4);
  out.writeInt16BE(dscale, 6);
  return out;
}

function expect<K extends 'string' | 'boolean'>(
  value: RowValue,
  kind: K,
  type: ScalarPgType,
): K extends 'string' ? string : boolean {
  if (typeof value !== kind) throw new Error(`a ${type} row value must be a ${kind}, got ${typeof value}`);
  return value as K extends 'string' ? string : boolean;
}
