/**
 * One buffer a writer appends encoded documents to, reused page after page and grown when a
 * page needs more: the writers of the export's fast path (RowsToBson, BsonToCanonicalEjson)
 * and of Extended JSON read straight to BSON (BsonWriter) build on it, so a page costs no
 * allocation once the buffer has its size.
 *
 * @example
 * const out = new GrowableBuffer();
 * out.append(Buffer.from('{}\n'));
 * console.log(out.bytes().toString('utf8', 0, out.length));  // {}
 */
export class GrowableBuffer {
  protected buffer = Buffer.allocUnsafe(64 * 1024);
  /** Bytes written since the last `reset`. */
  length = 0;

  /** The buffer written so far (valid up to `length`, until the next write). */
  bytes(): Buffer {
    return this.buffer;
  }

  /** Start a new page: later writes reuse the same buffer. */
  reset(): void {
    this.length = 0;
  }

  /** Append bytes encoded elsewhere (a document the writer declined, a line's end). */
  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * A safe integer as a little-endian int64 (a BSON int64 or date), in two 32-bit halves:
   * cheaper than a BigInt and `writeBigInt64LE` per value.
   */
  protected safeInt64(value: number): void {
    this.ensure(8);
    const high = Math.floor(value / 2 ** 32);
    this.buffer.writeUInt32LE(value - high * 2 ** 32, this.length);
    this.buffer.writeInt32LE(high, this.length + 4);
    this.length += 8;
  }

  /** Make room for `extra` more bytes after `length`. */
  protected ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
