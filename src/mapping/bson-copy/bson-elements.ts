/**
 * Walking the elements of a BSON document in place, without deserializing it. Every length
 * is checked against its container, so a damaged document is never misread: the walk gives
 * up (`BAIL`) and the caller falls back to the full decoder, which names the damage.
 */

/** Thrown to abandon the fast path for the current document; the caller catches it. */
export const BAIL: unique symbol = Symbol('bail');

export function bail(): never {
  throw BAIL;
}

/** BSON element type bytes the fast path knows the size of. */
export const BSON_TYPE = {
  double: 0x01,
  string: 0x02,
  document: 0x03,
  array: 0x04,
  binary: 0x05,
  undefined: 0x06,
  objectId: 0x07,
  bool: 0x08,
  date: 0x09,
  null: 0x0a,
  int32: 0x10,
  timestamp: 0x11,
  int64: 0x12,
  decimal128: 0x13,
  regex: 0x0b,
  dbPointer: 0x0c,
  code: 0x0d,
  symbol: 0x0e,
  codeWithScope: 0x0f,
  minKey: 0xff,
  maxKey: 0x7f,
} as const;

/**
 * A cursor over one document's elements. `next()` moves to the following element and
 * returns false at the terminator; then `type`, `keyStart`/`keyEnd` (the key's bytes, without
 * its NUL) and `valueStart`/`valueEnd` describe it.
 *
 * @example
 * declare const bytes: Buffer; // one BSON document
 * const e = new ElementCursor(bytes, 0, bytes.length);
 * while (e.next()) console.log(e.type, e.key());
 */
export class ElementCursor {
  type = 0;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  #at: number;
  readonly #end: number;

  /** `start`/`end` bound the whole document, its int32 length prefix and terminator included. */
  constructor(
    readonly bytes: Buffer,
    start: number,
    end: number,
  ) {
    if (end - start < 5 || readInt32(bytes, start) !== end - start || bytes[end - 1] !== 0) bail();
    this.#at = start + 4;
    this.#end = end - 1;
  }

  next(): boolean {
    const bytes = this.bytes;
    const at = this.#at;
    if (at >= this.#end) {
      if (at !== this.#end) bail();
      return false;
    }
    this.type = bytes[at]!;
    this.keyStart = at + 1;
    const keyEnd = bytes.indexOf(0, at + 1);
    if (keyEnd < 0 || keyEnd >= this.#end) bail();
    this.keyEnd = keyEnd;
    this.valueStart = keyEnd + 1;
    this.valueEnd = this.valueStart + valueSize(bytes, this.type, this.valueStart, this.#end);
    if (this.valueEnd > this.#end) bail();
    this.#at = this.valueEnd;
    return true;
  }

  /** The key as a string: ASCII keys the common case, anything else decoded and validated. */
  key(): string {
    return keyText(this.bytes, this.keyStart, this.keyEnd);
  }
}

function valueSize(bytes: Uint8Array, type: number, at: number, end: number): number {
  switch (type) {
    case BSON_TYPE.double:
    case BSON_TYPE.date:
    case BSON_TYPE.int64:
    case BSON_TYPE.timestamp:
      return 8;
    case BSON_TYPE.string:
    case BSON_TYPE.code:
    case BSON_TYPE.symbol: {
      if (at + 4 > end) bail();
      const length = readInt32(bytes, at);
      if (length < 1 || at + 4 + length > end || bytes[at + 3 + length] !== 0) bail();
      return 4 + length;
    }
    case BSON_TYPE.document:
    case BSON_TYPE.array:
    case BSON_TYPE.codeWithScope: {
      if (at + 4 > end) bail();
      const length = readInt32(bytes, at);
      if (length < 5 || at + length > end) bail();
      return length;
    }
    case BSON_TYPE.binary: {
      if (at + 5 > end) bail();
      const length = readInt32(bytes, at);
      if (length < 0) bail();
      return 5 + length;
    }
    case BSON_TYPE.objectId:
      return 12;
    case BSON_TYPE.bool:
      return 1;
    case BSON_TYPE.null:
    case BSON_TYPE.undefined:
    case BSON_TYPE.minKey:
    case BSON_TYPE.maxKey:
      return 0;
    case BSON_TYPE.regex: {
      const pattern = bytes.indexOf(0, at);
      const flags = pattern < 0 ? -1 : bytes.indexOf(0, pattern + 1);
      if (flags < 0 || flags >= end) bail();
      return flags + 1 - at;
    }
    case BSON_TYPE.dbPointer: {
      if (at + 4 > end) bail();
      const length = readInt32(bytes, at);
      if (length < 1 || at + 4 + length + 12 > end || bytes[at + 3 + length] !== 0) bail();
      return 4 + length + 12;
    }
    case BSON_TYPE.int32:
      return 4;
    case BSON_TYPE.decimal128:
      return 16;
    default:
      return bail();
  }
}

export function readInt32(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/** An int64 as `Long.toNumber()` gives it (what the decoder does for a date's milliseconds). */
export function readInt64AsNumber(bytes: Uint8Array, at: number): number {
  return readInt32(bytes, at + 4) * 4294967296 + (readInt32(bytes, at) >>> 0);
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as a string. Pure ASCII (nearly every key) is built directly; anything else must be
 * valid UTF-8, as the full decoder requires, or the walk gives up.
 */
export function keyText(bytes: Buffer, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return bytes.toString('latin1', start, end);
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    return bail();
  }
}

/**
 * A key the fast path can take: not `$`-led (the decoder may make a DBRef of it), not an
 * array index (JS orders those keys first, unlike BSON), not one that changes what a plain
 * object is (`__proto__`, `_bsontype`).
 */
export function isSafeKey(name: string): boolean {
  return !(name.startsWith('$') || isArrayIndexKey(name) || name === '__proto__' || name === '_bsontype');
}

/** `0`, `1`, … `4294967294`: the keys JavaScript enumerates before all others. */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

export function isArrayIndexKey(name: string): boolean {
  return ARRAY_INDEX.test(name) && Number(name) < 4294967295;
}
