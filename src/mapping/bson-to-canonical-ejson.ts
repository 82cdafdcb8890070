import { GrowableBuffer } from '../core/growable-buffer.js';
import { decimal128Text } from './decimal128-text.js';

/**
 * A document's BSON bytes straight to its canonical Extended JSON text, byte for byte what
 * `EJSON.stringify(doc, { relaxed: false })` gives for the document the bytes were serialized
 * from, without building that document: the Extended JSON export rebuilt every document with
 * toDoc only to stringify it, while RowsToBson already had its BSON.
 *
 * The bytes alone do not always say what the document held, so the walker declines (`write`
 * returns false, nothing written) wherever the text could differ, and the caller takes toDoc's
 * path for that document:
 * - BSON types it does not write (undefined, DBPointer, code, symbol, code with scope, and the
 *   binary subtypes 2, whose payload carries its own length, and 9, a vector bson validates);
 * - a key starting with `$`: a DBRef serializes to `$ref`/`$id`/`$db` keys but stringifies in
 *   its own key order;
 * - a date of 0 ms: bson serializes an invalid JavaScript Date as 0, which EJSON writes as
 *   `"NaN"`;
 * - U+FFFD in a string or key: the UTF-8 a lone surrogate was serialized to, which
 *   JSON.stringify would have escaped as `\udXXX` (a real U+FFFD takes toDoc's path too).
 *
 * What the bytes cannot show at all is a field the document held as `undefined`: BSON.serialize
 * leaves it out, EJSON writes it as `null`. The caller must not walk such a document's bytes
 * (RowsToBson says when a document may hold one: `mayHoldUndefined`).
 *
 * @example
 * declare const bson: Uint8Array;  // BSON.serialize({ _id: 1 })
 * const text = new BsonToCanonicalEjson();
 * if (text.write(bson)) console.log(text.bytes().toString('utf8', 0, text.length));
 * // {"_id":{"$numberInt":"1"}}
 */
export class BsonToCanonicalEjson extends GrowableBuffer {
  /** The document being read, as a Buffer for its number readers. */
  private input: Buffer = EMPTY;

  /** Append the text of the BSON document `bson`; false, with nothing appended, when declined. */
  write(bson: Uint8Array): boolean {
    this.input = Buffer.isBuffer(bson) ? bson : Buffer.from(bson.buffer, bson.byteOffset, bson.byteLength);
    const start = this.length;
    const end = bson.length >= 5 ? this.document(0, false) : DECLINED;
    this.input = EMPTY;
    if (end === bson.length) return true;
    this.length = start;
    return false;
  }

  /** The document or array whose length prefix is at `at`; the offset after it, or DECLINED. */
  private document(at: number, array: boolean): number {
    const input = this.input;
    const size = at + 4 <= input.length ? input.readInt32LE(at) : 0;
    const last = at + size - 1;
    if (size < 5 || last >= input.length || input[last] !== 0) return DECLINED;
    this.byte(array ? 0x5b : 0x7b);
    at += 4;
    let first = true;
    while (at < last) {
      const tag = input[at++]!;
      const name = at;
      while (at < last && input[at] !== 0) at++;
      if (at >= last) return DECLINED;
      if (!first) this.byte(0x2c);
      first = false;
      if (!array) {
        if (input[name] === 0x24 || !this.string(name, at)) return DECLINED;
        this.byte(0x3a);
      }
      at = this.value(tag, at + 1, last);
      if (at === DECLINED) return DECLINED;
    }
    if (at !== last) return DECLINED;
    this.byte(array ? 0x5d : 0x7d);
    return last + 1;
  }

  /** The value of type `tag` at `at` (its element ends by `last`); the offset after it. */
  private value(tag: number, at: number, last: number): number {
    const input = this.input;
    switch (tag) {
      case 0x01: {
        if (at + 8 > last) return DECLINED;
        this.wrapped(NUMBER_DOUBLE, doubleText(input.readDoubleLE(at)));
        return at + 8;
      }
      case 0x02: {
        const size = at + 4 <= last ? input.readInt32LE(at) : 0;
        const end = at + 4 + size - 1;
        if (size < 1 || end >= last || input[end] !== 0) return DECLINED;
        return this.string(at + 4, end) ? end + 1 : DECLINED;
      }
      case 0x03:
      case 0x04:
        return this.document(at, tag === 0x04);
      case 0x05:
        return this.binary(at, last);
      case 0x07: {
        if (at + 12 > last) return DECLINED;
        this.ascii(OBJECT_ID);
        this.hex(at, 12);
        this.ascii(QUOTE_BRACE);
        return at + 12;
      }
      case 0x08: {
        const value = input[at];
        if (value !== 0 && value !== 1) return DECLINED;
        this.ascii(value === 1 ? TRUE : FALSE);
        return at + 1;
      }
      case 0x09: {
        if (at + 8 > last) return DECLINED;
        const ms = safeInt64(input, at);
        if (ms === 0 || !(Math.abs(ms) <= MAX_DATE_MS)) return DECLINED;
        this.ascii(DATE);
        this.integer(ms);
        this.ascii(QUOTE_BRACE_BRACE);
        return at + 8;
      }
      case 0x0a:
        this.ascii(NULL);
        return at;
      case 0x0b:
        return this.regex(at, last);
      case 0x10: {
        if (at + 4 > last) return DECLINED;
        this.ascii(NUMBER_INT);
        this.integer(input.readInt32LE(at));
        this.ascii(QUOTE_BRACE);
        return at + 4;
      }
      case 0x11: {
        if (at + 8 > last) return DECLINED;
        this.ascii(TIMESTAMP_T);
        this.integer(input.readUInt32LE(at + 4));
        this.ascii(TIMESTAMP_I);
        this.integer(input.readUInt32LE(at));
        this.ascii(BRACE_BRACE);
        return at + 8;
      }
      case 0x12: {
        if (at + 8 > last) return DECLINED;
        const n = safeInt64(input, at);
        this.ascii(NUMBER_LONG);
        if (Number.isNaN(n)) this.ascii(input.readBigInt64LE(at).toString());
        else this.integer(n);
        this.ascii(QUOTE_BRACE);
        return at + 8;
      }
      case 0x13: {
        if (at + 16 > last) return DECLINED;
        this.wrapped(NUMBER_DECIMAL, decimal128Text(input, at));
        return at + 16;
      }
      case 0xff:
        this.ascii(MIN_KEY);
        return at;
      case 0x7f:
        this.ascii(MAX_KEY);
        return at;
      default:
        return DECLINED;
    }
  }

  private binary(at: number, last: number): number {
    const input = this.input;
    const size = at + 5 <= last ? input.readInt32LE(at) : -1;
    const subType = input[at + 4]!;
    const end = at + 5 + size;
    if (size < 0 || end > last || subType === 0x02 || subType === 0x09) return DECLINED;
    this.ascii(BINARY);
    this.ascii(input.toString('base64', at + 5, end));
    this.ascii(SUB_TYPE);
    this.hex(at + 4, 1);
    this.ascii(QUOTE_BRACE_BRACE);
    return end;
  }

  private regex(at: number, last: number): number {
    const input = this.input;
    const pattern = at;
    while (at < last && input[at] !== 0) at++;
    const options = at + 1;
    let end = options;
    while (end < last && input[end] !== 0) end++;
    if (end >= last) return DECLINED;
    this.ascii(REGEX_PATTERN);
    if (!this.string(pattern, at)) return DECLINED;
    this.ascii(REGEX_OPTIONS);
    if (!this.string(options, end)) return DECLINED;
    this.ascii(BRACE_BRACE);
    return end + 1;
  }

  /** `{"$numberX":"text"}`. */
  private wrapped(open: string, text: string): void {
    this.ascii(open);
    this.ascii(text);
    this.ascii(QUOTE_BRACE);
  }

  /**
   * The UTF-8 bytes `input[start, end)` as a JSON string, escaped as JSON.stringify escapes;
   * false at U+FFFD (see the class comment).
   */
  private string(start: number, end: number): boolean {
    const input = this.input;
    this.ensure(2 + 6 * (end - start));
    const out = this.buffer;
    let at = this.length;
    out[at++] = 0x22;
    for (let i = start; i < end; i++) {
      const b = input[i]!;
      if (b >= 0x20 && b !== 0x22 && b !== 0x5c) {
        if (b === 0xef && input[i + 1] === 0xbf && input[i + 2] === 0xbd) return false;
        out[at++] = b;
        continue;
      }
      const letter = ESCAPES[b];
      if (letter !== undefined) {
        out[at++] = 0x5c;
        out[at++] = letter;
      } else {
        // JSON.stringify's \u00XX, in lower-case hex.
        out[at++] = 0x5c;
        out[at++] = 0x75;
        out[at++] = 0x30;
        out[at++] = 0x30;
        out[at++] = HEX_DIGITS[b >> 4]!;
        out[at++] = HEX_DIGITS[b & 15]!;
      }
    }
    out[at++] = 0x22;
    this.length = at;
    return true;
  }

  /**
   * A safe integer in decimal, as String(n) writes it; digits straight into the buffer, since
   * String() of a date's 13 digits was the walk's largest cost.
   */
  private integer(n: number): void {
    this.ensure(17);
    if (n < 0) {
      this.buffer[this.length++] = 0x2d;
      n = -n;
    }
    if (n < 1e8) {
      this.digits(n, 0);
      return;
    }
    // Two parts below 2^31, so the digit loops stay in small integers.
    const head = Math.floor(n / 1e8);
    this.digits(head, 0);
    this.digits(n - head * 1e8, 8);
  }

  /** `n` (below 1e8) in decimal, zero-padded to `width` digits. */
  private digits(n: number, width: number): void {
    let count = 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) count++;
    if (count < width) count = width;
    const out = this.buffer;
    let at = this.length + count;
    this.length = at;
    for (let i = 0; i < count; i++) {
      const next = (n / 10) | 0;
      out[--at] = 0x30 + n - next * 10;
      n = next;
    }
  }

  /** `count` bytes of the input from `at` in lower-case hex. */
  private hex(at: number, count: number): void {
    this.ensure(2 * count);
    const input = this.input;
    const out = this.buffer;
    for (let i = at; i < at + count; i++) {
      const b = input[i]!;
      out[this.length++] = HEX_DIGITS[b >> 4]!;
      out[this.length++] = HEX_DIGITS[b & 15]!;
    }
  }

  /** Text known to be ASCII (wrappers, digits, base64), one byte a character. */
  private ascii(text: string): void {
    this.ensure(text.length);
    const out = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
    this.length = at;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buffer[this.length++] = b;
  }
}

const DECLINED = -1;
const EMPTY: Buffer = Buffer.alloc(0);

const NUMBER_DOUBLE = '{"$numberDouble":"';
const NUMBER_INT = '{"$numberInt":"';
const NUMBER_LONG = '{"$numberLong":"';
const NUMBER_DECIMAL = '{"$numberDecimal":"';
const OBJECT_ID = '{"$oid":"';
const DATE = '{"$date":{"$numberLong":"';
const BINARY = '{"$binary":{"base64":"';
const SUB_TYPE = '","subType":"';
const REGEX_PATTERN = '{"$regularExpression":{"pattern":';
const REGEX_OPTIONS = ',"options":';
const TIMESTAMP_T = '{"$timestamp":{"t":';
const TIMESTAMP_I = ',"i":';
const MIN_KEY = '{"$minKey":1}';
const MAX_KEY = '{"$maxKey":1}';
const QUOTE_BRACE = '"}';
const QUOTE_BRACE_BRACE = '"}}';
const BRACE_BRACE = '}}';
const TRUE = 'true';
const FALSE = 'false';
const NULL = 'null';

/** Beyond ±8.64e15 ms a JavaScript Date is invalid. */
const MAX_DATE_MS = 8.64e15;

const HEX_DIGITS = Buffer.from('0123456789abcdef');

/** The characters JSON.stringify escapes with a letter, by code: `"`, `\`, \b, \t, \n, \f, \r. */
const ESCAPES: Record<number, number> = {
  34: 0x22,
  92: 0x5c,
  8: 0x62,
  9: 0x74,
  10: 0x6e,
  12: 0x66,
  13: 0x72,
};

/** Double.toExtendedJSON's canonical text: `-0.0`, integers with `.0` (toFixed), else toString. */
function doubleText(value: number): string {
  if (Object.is(Math.sign(value), -0)) return '-0.0';
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** A little-endian int64 as a number when it is a safe integer (dates, most longs), else NaN. */
function safeInt64(input: Buffer, at: number): number {
  const high = input.readInt32LE(at + 4);
  // |high| < 2^21 keeps high · 2^32 + low within 2^53.
  if (high >= -SAFE_HIGH && high < SAFE_HIGH) return high * 2 ** 32 + input.readUInt32LE(at);
  return Number.NaN;
}
const SAFE_HIGH = 2 ** 21;
