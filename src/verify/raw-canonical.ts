import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { Tag } from '../mapping/canonical/bytes.js';
import { decimal128Key, doubleKey, numberKey } from '../mapping/canonical/number.js';
import { MAX_DOCUMENT_BYTES } from '../sources/bson/limits.js';

/**
 * The canonical hashes of a BSON document read straight from its bytes: the same values as
 * `canonicalHash(BSON.deserialize(bytes, DESERIALIZE_OPTIONS))` and `canonicalHash(doc._id)`,
 * without building a single JS object. Deep verify hashes every source document, and decoding
 * each into objects only to walk them again cost more than the hashing itself.
 *
 * It writes the canonical form of mapping/canonical/bytes.ts (same tags, keys sorted, numbers
 * as exact decimal keys) for the common BSON types, and declines (returns false) anything it
 * does not write exactly as the decoder would see it: a key that is not UTF-8, a key starting with `$`
 * (a DBRef decodes to another shape), a duplicate key, invalid UTF-8, a malformed or
 * oversized frame, and the rare types (undefined, regex, code, symbol, DBPointer, old binary).
 * The caller then decodes the frame as before, which yields the document or its reject, so
 * declining never changes a result. test/unit/verify/raw-canonical.test.ts checks the
 * equality on generated documents of every type.
 */

/** Deeper than any document this writer needs; deeper ones take the decoding path. */
const MAX_DEPTH = 100;
const TWO_POW_32 = 2 ** 32;
/** ECMAScript's time value range: a BSON date beyond it decodes to an Invalid Date. */
const MAX_TIME = 8.64e15;

/** The hashes of one document; `id` is the hash of its `_id` (of `undefined` when it has none). */
export interface RawHashes {
  id: bigint;
  doc: bigint;
}

/**
 * Hash one BSON document from its bytes into `out`, or return false when the caller must
 * decode it instead (see above).
 *
 * @example
 * import { BSON, ObjectId } from 'bson';
 * const bytes = BSON.serialize({ _id: new ObjectId(), total: 5 });
 * const out = { id: 0n, doc: 0n };
 * rawCanonicalHashes(bytes, out);   // true; out.doc === canonicalHash(BSON.deserialize(bytes, …))
 */
export function rawCanonicalHashes(bytes: Uint8Array, out: RawHashes): boolean {
  return shared.hashes(bytes, out);
}

/** Element descriptors of one object being sorted: four int32 per element. */
type Elements = Int32Array;
const KEY_START = 0;
const KEY_END = 1;
const TYPE = 2;
const VALUE = 3;

class RawCanonicalWriter {
  private out = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;
  private src: Buffer = Buffer.alloc(0);
  /** Per depth, reusable element tables and sort orders (no allocation per object). */
  private readonly tables: Elements[] = [];
  private readonly orders: Int32Array[] = [];
  private idType = 0;
  private idValue = 0;

  hashes(bytes: Uint8Array, result: RawHashes): boolean {
    const size = bytes.length;
    if (size < 5 || size > MAX_DOCUMENT_BYTES) return false;
    this.src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, size);
    if (this.src.readInt32LE(0) !== size) return false;
    this.pos = 0;
    this.idType = 0;
    if (!this.object(0, 0, true)) return false;
    result.doc = this.digest();
    this.pos = 0;
    if (this.idType === 0) this.byte(Tag.undefined);
    else if (!this.value(this.idType, this.idValue, 1)) return false;
    result.id = this.digest();
    return true;
  }

  private digest(): bigint {
    return hash('sha256', this.out.subarray(0, this.pos), 'buffer').readBigUInt64BE(0);
  }

  /** The BSON document at `start` as a canonical object: keys sorted by UTF-16 units. */
  private object(start: number, depth: number, top: boolean): boolean {
    if (depth > MAX_DEPTH) return false;
    const src = this.src;
    const end = this.documentEnd(start);
    if (end < 0) return false;
    let table = this.tables[depth] ?? new Int32Array(64);
    let count = 0;
    let ascii = true;
    let p = start + 4;
    while (p < end) {
      const type = src[p]!;
      const keyStart = p + 1;
      let q = keyStart;
      while (q < end && src[q] !== 0) {
        if (src[q]! >= 0x80) ascii = false;
        q++;
      }
      if (q >= end || src[keyStart] === 0x24 /* $ */) return false;
      const valueStart = q + 1;
      const next = this.skip(type, valueStart, end);
      if (next < 0) return false;
      if ((count + 1) * 4 > table.length) {
        const bigger = new Int32Array(table.length * 2);
        bigger.set(table);
        table = bigger;
      }
      const at = count * 4;
      table[at + KEY_START] = keyStart;
      table[at + KEY_END] = q;
      table[at + TYPE] = type;
      table[at + VALUE] = valueStart;
      count++;
      if (
        top &&
        q - keyStart === 3 &&
        src[keyStart] === 0x5f &&
        src[keyStart + 1] === 0x69 &&
        src[keyStart + 2] === 0x64
      ) {
        this.idType = type;
        this.idValue = valueStart;
      }
      p = next;
    }
    if (p !== end) return false;
    this.tables[depth] = table;
    const keys = ascii ? undefined : this.keyStrings(table, count);
    if (!ascii && keys === undefined) return false;
    const order = this.sortedOrder(table, count, depth, keys);
    if (order === undefined) return false;
    this.byte(Tag.object);
    this.u32(count);
    for (let i = 0; i < count; i++) {
      const at = order[i]! * 4;
      const keyStart = table[at + KEY_START]!;
      const keyEnd = table[at + KEY_END]!;
      this.byte(Tag.string);
      this.u32(keyEnd - keyStart);
      this.copy(keyStart, keyEnd);
      if (!this.value(table[at + TYPE]!, table[at + VALUE]!, depth + 1)) return false;
    }
    return true;
  }

  /** The BSON array at `start`: elements in order, their keys ignored (as the decoder does). */
  private array(start: number, depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    const src = this.src;
    const end = this.documentEnd(start);
    if (end < 0) return false;
    this.byte(Tag.array);
    const countAt = this.pos;
    this.u32(0);
    let count = 0;
    let p = start + 4;
    while (p < end) {
      const type = src[p]!;
      let q = p + 1;
      while (q < end && src[q] !== 0) q++;
      if (q >= end) return false;
      const valueStart = q + 1;
      const next = this.skip(type, valueStart, end);
      if (next < 0 || !this.value(type, valueStart, depth + 1)) return false;
      count++;
      p = next;
    }
    if (p !== end) return false;
    this.out.writeUInt32BE(count, countAt);
    return true;
  }

  /** Where the document at `start` ends (its terminating 0x00), or -1 when it is malformed. */
  private documentEnd(start: number): number {
    const src = this.src;
    if (start + 5 > src.length) return -1;
    const size = src.readInt32LE(start);
    if (size < 5 || start + size > src.length || src[start + size - 1] !== 0) return -1;
    return start + size - 1;
  }

  /** Where the value of `type` at `p` ends, or -1 when it is out of bounds or not written here. */
  private skip(type: number, p: number, end: number): number {
    const src = this.src;
    let next: number;
    switch (type) {
      case 0x01: // double
      case 0x09: // date
      case 0x11: // timestamp
      case 0x12: // int64
        next = p + 8;
        break;
      case 0x02: // string
        if (p + 4 > end) return -1;
        next = p + 4 + src.readInt32LE(p);
        if (next <= p + 4) return -1;
        break;
      case 0x03: // document
      case 0x04: // array
        if (p + 4 > end) return -1;
        next = p + src.readInt32LE(p);
        if (next <= p + 4) return -1;
        break;
      case 0x05: // binary
        if (p + 5 > end) return -1;
        next = p + 5 + src.readInt32LE(p);
        if (next < p + 5) return -1;
        break;
      case 0x07: // ObjectId
        next = p + 12;
        break;
      case 0x08: // boolean
        next = p + 1;
        break;
      case 0x0a: // null
      case 0x7f: // maxKey
      case 0xff: // minKey
        next = p;
        break;
      case 0x10: // int32
        next = p + 4;
        break;
      case 0x13: // decimal128
        next = p + 16;
        break;
      default:
        return -1;
    }
    return next <= end ? next : -1;
  }

  private value(type: number, p: number, depth: number): boolean {
    const src = this.src;
    switch (type) {
      case 0x01:
        this.number(doubleKey(src.readDoubleLE(p)));
        return true;
      case 0x02:
        return this.string(p);
      case 0x03:
        return this.object(p, depth, false);
      case 0x04:
        return this.array(p, depth);
      case 0x05: {
        const length = src.readInt32LE(p);
        const subtype = src[p + 4]!;
        if (subtype === 2) return false; // the old binary: the decoder strips an inner length
        this.byte(Tag.binary);
        this.byte(subtype);
        this.u32(length);
        this.copy(p + 5, p + 5 + length);
        return true;
      }
      case 0x07:
        this.byte(Tag.objectId);
        this.copy(p, p + 12);
        return true;
      case 0x08: {
        const b = src[p];
        if (b !== 0 && b !== 1) return false; // the decoder refuses it: the frame is a reject
        this.byte(b === 1 ? Tag.true : Tag.false);
        return true;
      }
      case 0x09: {
        // As the decoder computes it (Long.toNumber, then new Date): the same double.
        const ms = src.readInt32LE(p + 4) * TWO_POW_32 + src.readUInt32LE(p);
        if (!(Math.abs(ms) <= MAX_TIME)) {
          this.byte(Tag.invalidDate);
          return true;
        }
        this.byte(Tag.date);
        this.reserve(8);
        this.out.writeDoubleBE(ms === 0 ? 0 : ms, this.pos);
        this.pos += 8;
        return true;
      }
      case 0x0a:
        this.byte(Tag.null);
        return true;
      case 0x10:
        this.number(doubleKey(src.readInt32LE(p)));
        return true;
      case 0x11:
        this.byte(Tag.timestamp);
        this.u32(src.readUInt32LE(p + 4));
        this.u32(src.readUInt32LE(p));
        return true;
      case 0x12: {
        const high = src.readInt32LE(p + 4);
        // Within ±2^53 the double is exact; beyond, through bigint as the Long's key is.
        this.number(
          high >= -0x200000 && high < 0x200000
            ? doubleKey(high * TWO_POW_32 + src.readUInt32LE(p))
            : numberKey(src.readBigInt64LE(p)),
        );
        return true;
      }
      case 0x13:
        this.number(decimal128Key(src.subarray(p, p + 16)));
        return true;
      case 0x7f:
        this.byte(Tag.maxKey);
        return true;
      case 0xff:
        this.byte(Tag.minKey);
        return true;
      default:
        return false;
    }
  }

  /** A BSON string: valid UTF-8 decodes to a well-formed string whose UTF-8 is these bytes. */
  private string(p: number): boolean {
    const src = this.src;
    const start = p + 4;
    const end = start + src.readInt32LE(p) - 1;
    if (src[end] !== 0) return false;
    for (let i = start; i < end; i++) {
      if (src[i]! >= 0x80) {
        if (!isUtf8(src.subarray(start, end))) return false; // the decoder rejects the frame
        break;
      }
    }
    this.byte(Tag.string);
    this.u32(end - start);
    this.copy(start, end);
    return true;
  }

  /**
   * The order of an object's keys (insertion sort, as the object encoder does: few keys), or
   * undefined for a duplicate key, which the decoder would collapse into one.
   */
  private sortedOrder(
    table: Elements,
    count: number,
    depth: number,
    keys: readonly string[] | undefined,
  ): Int32Array | undefined {
    let order = this.orders[depth];
    if (order === undefined || order.length < count) {
      order = new Int32Array(Math.max(64, count * 2));
      this.orders[depth] = order;
    }
    for (let i = 0; i < count; i++) {
      const current = i;
      let j = i - 1;
      while (j >= 0) {
        const c =
          keys === undefined
            ? this.compareKeys(table, order[j]!, current)
            : compareStrings(keys[order[j]!]!, keys[current]!);
        if (c === 0) return undefined;
        if (c < 0) break;
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = current;
    }
    return order;
  }

  /**
   * An object's keys as strings, when one is not ASCII: UTF-8 byte order differs from the
   * UTF-16 order the object encoder sorts by (U+E000–U+FFFF against astral characters). A key
   * that is not valid UTF-8 decodes with replacement characters: undefined, the decoder's case.
   */
  private keyStrings(table: Elements, count: number): string[] | undefined {
    const keys: string[] = [];
    for (let i = 0; i < count; i++) {
      const key = this.src.subarray(table[i * 4 + KEY_START]!, table[i * 4 + KEY_END]!);
      if (!isUtf8(key)) return undefined;
      keys.push(key.toString('utf8'));
    }
    return keys;
  }

  /** Keys in ASCII: byte order is UTF-16 order. */
  private compareKeys(table: Elements, a: number, b: number): number {
    const src = this.src;
    let i = table[a * 4 + KEY_START]!;
    const iEnd = table[a * 4 + KEY_END]!;
    let j = table[b * 4 + KEY_START]!;
    const jEnd = table[b * 4 + KEY_END]!;
    for (; i < iEnd && j < jEnd; i++, j++) {
      const d = src[i]! - src[j]!;
      if (d !== 0) return d;
    }
    return iEnd - i - (jEnd - j);
  }

  private number(key: string): void {
    this.byte(Tag.number);
    this.u32(key.length);
    this.reserve(key.length);
    for (let i = 0; i < key.length; i++) this.out[this.pos + i] = key.charCodeAt(i);
    this.pos += key.length;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.out.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.pos + n));
    this.out.copy(next, 0, 0, this.pos);
    this.out = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.out[this.pos++] = b;
  }

  private u32(n: number): void {
    this.reserve(4);
    this.out.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  private copy(start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    if (n <= 16) for (let i = 0; i < n; i++) this.out[this.pos + i] = this.src[start + i]!;
    else this.src.copy(this.out, this.pos, start, end);
    this.pos += n;
  }
}

/** By UTF-16 code units, as `Array.prototype.sort` and the object encoder order keys. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const shared = new RawCanonicalWriter();
