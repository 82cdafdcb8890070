import { FerryError } from '../../core/errors.js';
import { type Classified, classify } from './kind.js';
import { decimal128Key, doubleKey, numberKey } from './number.js';

/**
 * A deterministic, prefix-free byte encoding in which two values encode identically exactly
 * when `canonicalEqual` holds. Every value is a tag byte plus a payload; every variable part is
 * length-prefixed, so no two different values can share an encoding. Object keys are sorted
 * (by UTF-16 units, which is a fixed order, so it is deterministic), and numbers of every BSON
 * type are written as their exact decimal key (`number.ts`). The format is internal: it may
 * change between Ferry versions, so never persist it; hashes are compared within one run.
 * Exported for the encoder that writes the same form straight from BSON bytes
 * (verify/raw-canonical.ts), which must use the very same tags.
 */
export const Tag = {
  null: 0x01,
  false: 0x02,
  true: 0x03,
  number: 0x04,
  string: 0x05,
  /** A string with lone surrogates: UTF-8 cannot hold it losslessly, so it goes as UTF-16LE. */
  stringUtf16: 0x06,
  object: 0x07,
  array: 0x08,
  objectId: 0x09,
  date: 0x0a,
  invalidDate: 0x0b,
  binary: 0x0c,
  timestamp: 0x0d,
  regex: 0x0e,
  minKey: 0x0f,
  maxKey: 0x10,
  code: 0x11,
  codeWithScope: 0x12,
  symbol: 0x13,
  undefined: 0x14,
} as const;

/** Far deeper than MongoDB allows (100); a guard against cyclic objects, not a real limit. */
const MAX_DEPTH = 512;

type WellFormed = { isWellFormed(): boolean };

/**
 * Writes into one reused buffer: hashing every document of a verification run must not
 * allocate a buffer per document. Synchronous from start to end, so sharing it is safe.
 */
class Encoder {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  private u32(n: number): void {
    this.reserve(4);
    this.buf.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  private bytes(data: Uint8Array): void {
    this.u32(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** A length-prefixed string. ASCII is copied by hand: for short keys that beats `buf.write`. */
  private text(s: string): void {
    const n = s.length;
    this.reserve(5 + n * 3);
    const buf = this.buf;
    const start = this.pos + 5;
    let i = 0;
    if (n < 128) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
    }
    let length = i;
    let tag: number = Tag.string;
    if (i < n) {
      if ((s as unknown as WellFormed).isWellFormed()) {
        length = buf.write(s, start, 'utf8');
      } else {
        tag = Tag.stringUtf16;
        length = buf.write(s, start, 'utf16le');
      }
    }
    buf[this.pos] = tag;
    buf.writeUInt32BE(length, this.pos + 1);
    this.pos = start + length;
  }

  /** Short fixed-size bytes: a loop beats `TypedArray.set` at this size. */
  private fixed(data: Uint8Array): void {
    this.reserve(data.length);
    for (let i = 0; i < data.length; i++) this.buf[this.pos + i] = data[i]!;
    this.pos += data.length;
  }

  private number(key: string): void {
    this.byte(Tag.number);
    this.ascii(key);
  }

  private ascii(s: string): void {
    this.u32(s.length);
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    this.pos += s.length;
  }

  value(value: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw tooDeep();
    // Strings and numbers are most of any document; skip classify's allocation for them.
    if (typeof value === 'string') {
      this.text(value);
      return;
    }
    if (typeof value === 'object' && value !== null) {
      const tag = (value as { _bsontype?: unknown })._bsontype;
      if (tag === 'Int32' || tag === 'Double') {
        this.number(doubleKey((value as { value: number }).value));
        return;
      }
      if (tag === 'Decimal128') {
        this.number(decimal128Key((value as { bytes: Uint8Array }).bytes));
        return;
      }
    }
    this.classified(classify(value), depth);
  }

  private classified(c: Classified, depth: number): void {
    switch (c.kind) {
      case 'null':
        this.byte(Tag.null);
        break;
      case 'undefined':
        this.byte(Tag.undefined);
        break;
      case 'boolean':
        this.byte(c.value ? Tag.true : Tag.false);
        break;
      case 'number':
        this.number(numberKey(c.value));
        break;
      case 'string':
        this.text(c.value);
        break;
      case 'symbol':
        this.byte(Tag.symbol);
        this.text(c.value);
        break;
      case 'object':
        this.object(c.value as Record<string, unknown>, depth);
        break;
      case 'array':
        this.byte(Tag.array);
        this.u32(c.value.length);
        for (const item of c.value) this.value(item, depth + 1);
        break;
      case 'objectId':
        this.byte(Tag.objectId);
        this.fixed(c.value.id);
        break;
      case 'date':
        if (Number.isNaN(c.value)) {
          this.byte(Tag.invalidDate);
          break;
        }
        this.byte(Tag.date);
        this.reserve(8);
        this.buf.writeDoubleBE(c.value === 0 ? 0 : c.value, this.pos);
        this.pos += 8;
        break;
      case 'binary':
        this.byte(Tag.binary);
        this.byte(c.subtype);
        this.bytes(c.bytes);
        break;
      case 'timestamp':
        this.byte(Tag.timestamp);
        this.u32(c.t);
        this.u32(c.i);
        break;
      case 'regex':
        this.byte(Tag.regex);
        this.text(c.pattern);
        this.text(c.flags);
        break;
      case 'minKey':
        this.byte(Tag.minKey);
        break;
      case 'maxKey':
        this.byte(Tag.maxKey);
        break;
      case 'code':
        this.byte(c.scope === null ? Tag.code : Tag.codeWithScope);
        this.text(c.code);
        if (c.scope !== null) this.object(c.scope, depth);
        break;
    }
  }

  private object(doc: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(doc);
    sortKeys(keys);
    this.byte(Tag.object);
    this.u32(keys.length);
    for (const key of keys) {
      this.text(key);
      this.value(doc[key], depth + 1);
    }
  }
}

/**
 * Sort by UTF-16 code units (the order `Array.prototype.sort` also uses). Documents have few
 * keys per object, and insertion sort is twice as fast as the built-in sort at that size.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 24) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

const shared = new Encoder();

/**
 * Encode a value into the shared buffer and hand the bytes to `use` before anyone else can
 * overwrite them. Internal to the canonical module (the hash uses it without copying).
 */
export function withCanonicalBytes<T>(value: unknown, use: (bytes: Buffer) => T): T {
  shared.reset();
  shared.value(value, 0);
  return use(shared.buf.subarray(0, shared.pos));
}

/**
 * The canonical encoding of a value: `canonicalBytes(a).equals(canonicalBytes(b))` exactly
 * when `canonicalEqual(a, b)`. Returns a fresh Buffer the caller owns.
 *
 * @example
 * import { Decimal128, Int32 } from 'bson';
 * canonicalBytes({ b: new Int32(5), a: 'x' })
 *   .equals(canonicalBytes({ a: 'x', b: Decimal128.fromString('5.00') })); // true
 */
export function canonicalBytes(value: unknown): Buffer {
  return withCanonicalBytes(value, (bytes) => Buffer.from(bytes));
}

function tooDeep(): FerryError {
  return new FerryError(`value nests deeper than ${MAX_DEPTH} levels (is it cyclic?)`, {
    code: 'CANONICAL_TOO_DEEP',
    category: 'input',
  });
}
