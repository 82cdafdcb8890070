import { GrowableBuffer } from '../../core/growable-buffer.js';

/**
 * BSON bytes written one element at a time into one reused, growing buffer (GrowableBuffer), for converters
 * that know their values' BSON types as they walk them (Extended JSON text straight to BSON)
 * and so need no intermediate objects. `finish()` copies the document out.
 *
 * @example
 * const writer = new BsonWriter();
 * writer.reset();
 * const doc = writer.openDocument();
 * writer.int32('n', 5);
 * writer.closeDocument(doc);
 * writer.finish(); // the same bytes as BSON.serialize({ n: new Int32(5) })
 */
export class BsonWriter extends GrowableBuffer {
  /** The bytes written since `reset()`, as a buffer of their own. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.buffer.copy(out, 0, 0, this.length);
    return out;
  }

  /** Reserve a document's length; give the result to `closeDocument`. */
  openDocument(): number {
    this.ensure(4);
    const start = this.length;
    this.length += 4;
    return start;
  }

  closeDocument(start: number): void {
    this.ensure(1);
    this.buffer[this.length++] = 0;
    this.buffer.writeInt32LE(this.length - start, start);
  }

  /** An element's type byte and key; the caller then writes its value (a document for 0x03/0x04). */
  element(type: number, key: string): void {
    this.ensure(2);
    this.buffer[this.length++] = type;
    this.text(key);
    this.buffer[this.length++] = 0;
  }

  string(key: string, value: string): void {
    this.element(0x02, key);
    this.ensure(5);
    const start = this.length;
    this.length += 4;
    this.text(value);
    this.buffer[this.length++] = 0;
    this.buffer.writeInt32LE(this.length - start - 4, start);
  }

  int32(key: string, value: number): void {
    this.element(0x10, key);
    this.ensure(4);
    this.length = this.buffer.writeInt32LE(value, this.length);
  }

  /** An int64 (`type` 0x12) or a UTC datetime (0x09), both eight bytes of signed integer. */
  int64(type: 0x12 | 0x09, key: string, value: bigint): void {
    this.element(type, key);
    this.ensure(8);
    this.length = this.buffer.writeBigInt64LE(value, this.length);
  }

  /** `int64` of a safe integer (`Number.isSafeInteger`), without making it a BigInt first. */
  safeInteger64(type: 0x12 | 0x09, key: string, value: number): void {
    this.element(type, key);
    this.safeInt64(value);
  }

  double(key: string, value: number): void {
    this.element(0x01, key);
    this.ensure(8);
    this.length = this.buffer.writeDoubleLE(value, this.length);
  }

  /**
   * Room for a value of `size` bytes after the element's header, for a caller that writes it
   * itself into `bytes()` at the offset returned (after this call: growing replaces the buffer).
   */
  reserve(type: number, key: string, size: number): number {
    this.element(type, key);
    this.ensure(size);
    const at = this.length;
    this.length += size;
    return at;
  }

  /** An ObjectId from its 24 hex digits (checked by the caller). */
  objectId(key: string, hex: string): void {
    this.element(0x07, key);
    this.ensure(12);
    this.length += this.buffer.write(hex, this.length, 12, 'hex');
  }

  boolean(key: string, value: boolean): void {
    this.element(0x08, key);
    this.ensure(1);
    this.buffer[this.length++] = value ? 1 : 0;
  }

  null(key: string): void {
    this.element(0x0a, key);
  }

  /** Text as UTF-8, as bson writes it (`Buffer.write`: a lone surrogate becomes U+FFFD), plus room for one more byte. */
  private text(value: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.ensure(value.length * 3 + 1);
    const characters = value.length;
    if (characters <= 32) {
      // Short ASCII (keys, tags) byte by byte: cheaper than a call into C++.
      let i = 0;
      for (; i < characters; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        this.buffer[this.length + i] = code;
      }
      if (i === characters) {
        this.length += characters;
        return;
      }
    }
    this.length += this.buffer.write(value, this.length, 'utf8');
  }
}
