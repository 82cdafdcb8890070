import { uuidFromBytes } from '../identity.js';
import { doubleText, timestamptzText } from '../pg-text.js';
import { BSON_TYPE, bail, readInt32 } from './bson-elements.js';
import type { FastColumn } from './fast-plan.js';
import type { TextSink } from './text-sink.js';

/**
 * The most common column values, straight from their BSON bytes to COPY text, with no
 * wrapper object in between: ObjectId → uuid, date → timestamptz, int32 → integer, double →
 * double precision, bool → boolean. Each gives exactly what `encodeColumn` + `encodeCopyField`
 * give for that pairing, none needs COPY escaping, and every other pairing is left to them
 * (`undefined`).
 */
export type DirectKind = 'objectId' | 'date' | 'int32' | 'double' | 'bool';

/** Which direct encoding a column can use, if any (the BSON type is checked per value). */
export function directKind(column: FastColumn['codec']): DirectKind | undefined {
  if (column.transform !== undefined || column.type.array) return undefined;
  const source = column.column.sourceType;
  const base = column.type.base;
  if (source === 'objectId') return 'objectId';
  if (source === 'date') return 'date';
  if (source === 'bool') return 'bool';
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

/** The value's COPY text, or undefined when its BSON type is not the one `kind` reads. */
export function directText(kind: DirectKind, bytes: Buffer, type: number, at: number): string | undefined {
  switch (kind) {
    case 'objectId':
      return type === BSON_TYPE.objectId ? uuidFromBytes(bytes, at) : undefined;
    case 'date': {
      if (type !== BSON_TYPE.date) return undefined;
      // Long.toNumber() of the int64, as the decoder computes it.
      const ms = readInt32(bytes, at + 4) * 4294967296 + (readInt32(bytes, at) >>> 0);
      // Out of range is a reject, which toRows words: hand the document back.
      return timestamptzText(new Date(ms)) ?? bail();
    }
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

/**
 * `uuidFromBytes` written straight into the sink as ASCII, for the ObjectIds of every row
 * (ids and parent keys): no 36-character string to build and copy. direct-fields.test.ts pins
 * it to `uuidFromBytes`.
 */
export function writeObjectIdUuid(sink: TextSink, bytes: Uint8Array, at: number): void {
  sink.reserve(36);
  const out = sink.bytes;
  let o = sink.length;
  const seconds = bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
  const ms = seconds * 1000;
  const high = Math.floor(ms / 0x1000000);
  const low = ms - high * 0x1000000;
  const hex = (byte: number) => {
    out[o++] = HEX_HIGH[byte]!;
    out[o++] = HEX_LOW[byte]!;
  };
  hex(high >>> 16);
  hex((high >>> 8) & 0xff);
  hex(high & 0xff);
  hex(low >>> 16);
  out[o++] = 0x2d;
  hex((low >>> 8) & 0xff);
  hex(low & 0xff);
  out[o++] = 0x2d;
  // The version nibble 7 and the marker 'fe', then the random byte's high digit.
  out[o++] = 0x37;
  out[o++] = 0x66;
  out[o++] = 0x65;
  out[o++] = HEX_HIGH[bytes[at + 4]!]!;
  out[o++] = 0x2d;
  out[o++] = 0x61;
  out[o++] = HEX_LOW[bytes[at + 4]!]!;
  hex(bytes[at + 5]!);
  out[o++] = 0x2d;
  for (let i = 6; i < 12; i++) hex(bytes[at + i]!);
  sink.length = o;
}
