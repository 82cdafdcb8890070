import { writeTimestamptzMicros } from '../../copy/copy-binary.js';
import type { TextSink } from '../../copy/text-sink.js';
import { writeObjectIdUuidBytes } from '../identity.js';
import { doubleText, MIN_TIMESTAMPTZ_MS } from '../pg-text.js';
import { BSON_TYPE, bail, readInt32 } from './bson-elements.js';
import type { FastColumn } from './fast-plan.js';

/**
 * The most common column values, straight from their BSON bytes to COPY text, with no
 * wrapper object in between: ObjectId → uuid, date → timestamptz, int32 → integer, double →
 * double precision, bool → boolean. Each gives exactly what `encodeColumn` + `encodeCopyField`
 * give for that pairing, none needs COPY escaping, and every other pairing is left to them
 * (`undefined`).
 */
export type DirectKind = 'objectId' | 'date' | 'int32' | 'double' | 'bool' | 'decimal';

/** Which direct encoding a column can use, if any (the BSON type is checked per value). */
export function directKind(column: FastColumn['codec']): DirectKind | undefined {
  if (column.transform !== undefined || column.type.array) return undefined;
  const source = column.column.sourceType;
  const base = column.type.base;
  if (source === 'objectId') return 'objectId';
  if (source === 'date') return 'date';
  if (source === 'bool') return 'bool';
  // Only where any Decimal128 fits: numeric(p,s) checks precision on the text first.
  if (source === 'decimal' && base === 'numeric' && column.type.precision === undefined) return 'decimal';
  const numeric = source === 'number' || source === 'int' || source === 'double';
  if (
    numeric &&
    source !== 'double' &&
    (base === 'integer' || base === 'bigint' || base === 'double precision')
  )
    return 'int32';
  if (numeric && source !== 'int' && base === 'double precision') return 'double';
  return undefined;
}

/**
 * The value's COPY text for the kinds written as strings (ObjectIds and dates are written as
 * bytes: `writeObjectIdUuid`, `writeTimestamptz`), or undefined when its BSON type is not the
 * one `kind` reads.
 */
export function directText(
  kind: Exclude<DirectKind, 'objectId' | 'date' | 'decimal'>,
  bytes: Buffer,
  type: number,
  at: number,
): string | undefined {
  switch (kind) {
    case 'int32':
      return type === BSON_TYPE.int32 ? String(readInt32(bytes, at)) : undefined;
    case 'double':
      return type === BSON_TYPE.double ? doubleText(bytes.readDoubleLE(at)) : undefined;
    case 'bool': {
      if (type !== BSON_TYPE.bool) return undefined;
      const byte = bytes[at];
      return byte === 1 ? 't' : byte === 0 ? 'f' : bail();
    }
  }
}

/** ASCII codes of the two lowercase hex digits of each byte value. */
const HEX_HIGH = Uint8Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').charCodeAt(0));
const HEX_LOW = Uint8Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').charCodeAt(1));

const UUID_BYTES = new Uint8Array(16);

/**
 * `uuidFromBytes` written straight into the sink as ASCII, for the ObjectIds of every row
 * (ids and parent keys): no 36-character string to build and copy. direct-fields.test.ts pins
 * it to `uuidFromBytes`.
 */
export function writeObjectIdUuid(sink: TextSink, bytes: Uint8Array, at: number): void {
  writeObjectIdUuidBytes(bytes, at, UUID_BYTES, 0);
  sink.reserve(36);
  const out = sink.bytes;
  let o = sink.length;
  for (let i = 0; i < 16; i++) {
    // Hyphens after the 4th, 6th, 8th and 10th bytes: 8-4-4-4-12 hex digits.
    if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = 0x2d;
    out[o++] = HEX_HIGH[UUID_BYTES[i]!]!;
    out[o++] = HEX_LOW[UUID_BYTES[i]!]!;
  }
  sink.length = o;
}

/** The same uuid as its 16 bytes, for binary COPY. */
export function writeObjectIdUuidBinary(sink: TextSink, bytes: Uint8Array, at: number): void {
  sink.reserve(16);
  writeObjectIdUuidBytes(bytes, at, sink.bytes, sink.length);
  sink.length += 16;
}

const MS_PER_DAY = 86_400_000;
/** JavaScript's Date range: beyond it `timestamptzText` sees an invalid date. */
const MAX_DATE_MS = 8.64e15;

/** Where `timestamptzText` gives a text: within PostgreSQL's range and JavaScript's. */
function inTimestamptzRange(ms: number): boolean {
  return ms >= MIN_TIMESTAMPTZ_MS && ms <= MAX_DATE_MS;
}

/**
 * `timestamptzText(new Date(ms))` written straight into the sink as ASCII, or false when that
 * gives undefined (outside PostgreSQL's or JavaScript's range). One call per date of every
 * document, so no Date and no string: the civil date comes from the day number by Howard
 * Hinnant's `civil_from_days`, exact for every day JavaScript can represent.
 * direct-fields.test.ts pins it to `timestamptzText`.
 */
export function writeTimestamptz(sink: TextSink, ms: number): boolean {
  if (!inTimestamptzRange(ms)) return false;
  const days = Math.floor(ms / MS_PER_DAY);
  let msOfDay = ms - days * MS_PER_DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const bc = year <= 0;
  const shown = bc ? 1 - year : year;
  sink.reserve(40);
  const out = sink.bytes;
  let o = sink.length;
  if (shown >= 10_000) {
    const text = String(shown);
    for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
  } else o = digits(out, o, shown, 4);
  out[o++] = 0x2d;
  o = digits(out, o, month, 2);
  out[o++] = 0x2d;
  o = digits(out, o, day, 2);
  out[o++] = 0x20;
  const hours = Math.floor(msOfDay / 3_600_000);
  msOfDay -= hours * 3_600_000;
  const minutes = Math.floor(msOfDay / 60_000);
  msOfDay -= minutes * 60_000;
  const seconds = Math.floor(msOfDay / 1000);
  o = digits(out, o, hours, 2);
  out[o++] = 0x3a;
  o = digits(out, o, minutes, 2);
  out[o++] = 0x3a;
  o = digits(out, o, seconds, 2);
  out[o++] = 0x2e;
  o = digits(out, o, msOfDay - seconds * 1000, 3);
  out[o++] = 0x2b;
  out[o++] = 0x30;
  out[o++] = 0x30;
  if (bc) {
    out[o++] = 0x20;
    out[o++] = 0x42;
    out[o++] = 0x43;
  }
  sink.length = o;
  return true;
}

/** `value` as exactly `width` decimal digits (it has no more), zero-padded. */
function digits(out: Buffer, at: number, value: number, width: number): number {
  let rest = value;
  for (let i = at + width - 1; i >= at; i--) {
    out[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + width;
}

/** `writeTimestamptz` for binary COPY: microseconds since 2000-01-01 as an int64; false out of range. */
export function writeTimestamptzBinary(sink: TextSink, ms: number): boolean {
  if (!inTimestamptzRange(ms)) return false;
  writeTimestamptzMicros(sink, ms);
  return true;
}
