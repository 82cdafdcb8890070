/**
 * BSON bytes written one element at a time into one reused, growing buffer, for converters
 * that know their values' BSON types as they walk them (Extended JSON text straight to BSON)
 * and so need no intermediate objects. `finish()` copies the document out.
 *
 * @example
 * const writer = new BsonWriter();
 * writer.begin();
 * const doc = writer.openDocument();
 * writer.int32('n', 5);
 * writer.closeDocument(doc);
 * writer.finish(); // the same bytes as BSON.serialize({ n: new Int32(5) })
 */
export class BsonWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private at = 0;

  /** Start a new top-level value, dropping whatever an abandoned one left. */
  begin(): void {
    this.at = 0;
  }

  /** The bytes written since `begin()`, as a buffer of their own. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.at);
    this.buffer.copy(out, 0, 0, this.at);
    return out;
  }

  /** Reserve a document's length; give the result to `closeDocument`. */
  openDocument(): number {
    this.room(4);
    const start = this.at;
    this.at += 4;
    return start;
  }

  closeDocument(start: number): void {
    this.room(1);
    this.buffer[this.at++] = 0;
    this.buffer.writeInt32LE(this.at - start, start);
  }

  /** An element's type byte and key; the caller then writes its value (a document for 0x03/0x04). */
  element(type: number, key: string): void {
    this.room(2);
    this.buffer[this.at++] = type;
    this.text(key);
    this.buffer[this.at++] = 0;
  }

  string(key: string, value: string): void {
    this.element(0x02, key);
    this.room(5);
    const start = this.at;
    this.at += 4;
    this.text(value);
    this.buffer[this.at++] = 0;
    this.buffer.writeInt32LE(this.at - start - 4, start);
  }

  int32(key: string, value: number): void {
    this.element(0x10, key);
    this.room(4);
    this.at = this.buffer.writeInt32LE(value, this.at);
  }

  /** An int64 (`type` 0x12) or a UTC datetime (0x09), both eight bytes of signed integer. */
  int64(type: 0x12 | 0x09, key: string, value: bigint): void {
    this.element(type, key);
    this.room(8);
    this.at = this.buffer.writeBigInt64LE(value, this.at);
  }

  double(key: string, value: number): void {
    this.element(0x01, key);
    this.room(8);
    this.at = this.buffer.writeDoubleLE(value, this.at);
  }

  /**
   * Room for a value of `size` bytes after the element's header, for a caller that writes it
   * itself into `target` at the offset returned.
   */
  reserve(type: number, key: string, size: number): number {
    this.element(type, key);
    this.room(size);
    const at = this.at;
    this.at += size;
    return at;
  }

  /** The buffer `reserve` offsets point into (it changes as the writer grows). */
  get target(): Buffer {
    return this.buffer;
  }

  /** An ObjectId from its 24 hex digits (checked by the caller). */
  objectId(key: string, hex: string): void {
    this.element(0x07, key);
    this.room(12);
    this.at += this.buffer.write(hex, this.at, 12, 'hex');
  }

  boolean(key: string, value: boolean): void {
    this.element(0x08, key);
    this.room(1);
    this.buffer[this.at++] = value ? 1 : 0;
  }

  null(key: string): void {
    this.element(0x0a, key);
  }

  /** Text as UTF-8, as bson writes it (`Buffer.write`: a lone surrogate becomes U+FFFD), plus room for one more byte. */
  private text(value: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.room(value.length * 3 + 1);
    const length = value.length;
    if (length <= 32) {
      // Short ASCII (keys, tags) byte by byte: cheaper than a call into C++.
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        this.buffer[this.at + i] = code;
      }
      if (i === length) {
        this.at += length;
        return;
      }
    }
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}
