/**
 * A growable byte buffer that COPY text is written into. The load path encodes every row
 * straight into bytes here, instead of building a JS string per line and converting it
 * afterwards: that string, and the garbage of concatenating it, was a large share of the
 * backfill's CPU time.
 */
export class TextSink {
  bytes: Buffer;
  length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
  }

  /** Make room for `more` bytes after `length`. */
  reserve(more: number): void {
    const needed = this.length + more;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  writeByte(byte: number): void {
    this.reserve(1);
    this.bytes[this.length++] = byte;
  }

  /** A JS string as UTF-8, verbatim (the caller has escaped it for COPY already). */
  writeString(text: string): void {
    const n = text.length;
    this.reserve(n * 3);
    const out = this.bytes;
    let at = this.length;
    // Short ASCII text (numbers, dates, uuids) is copied by hand: Buffer#write costs more to call.
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) break;
        out[at++] = code;
      }
      if (i === n) {
        this.length = at;
        return;
      }
      at = this.length;
    }
    this.length = at + out.write(text, at, 'utf8');
  }

  /** Bytes `[start, end)` of `source`, verbatim. */
  writeBytes(source: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    this.length = copyBytes(source, start, end, this.bytes, this.length);
  }

  /**
   * The bytes written so far, as a copy sized exactly (the sink can then be reused). The copy
   * has an ArrayBuffer of its own (not Node's shared pool), so it can be moved to another thread.
   */
  takeCopy(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.length);
    this.bytes.copy(out, 0, 0, this.length);
    this.length = 0;
    return out;
  }
}

/**
 * Copy `source[from…to)` to `out` at `at` (room reserved by the caller); returns the offset
 * after it. Most fields are short: a loop beats allocating a subarray view for `set`.
 */
export function copyBytes(source: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  if (to - from >= 64) {
    out.set(source.subarray(from, to), at);
    return at + to - from;
  }
  let o = at;
  for (let i = from; i < to; i++) out[o++] = source[i]!;
  return o;
}
