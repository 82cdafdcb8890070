import { FerryError, type FerryErrorOptions } from '../../core/errors.js';

/**
 * A pull-based byte buffer over a chunked stream. It asks the stream for more only when a
 * caller needs more bytes than are buffered, so a slow consumer slows the file read
 * (backpressure) and memory stays at about one document plus one chunk.
 *
 * @example
 * import type { Readable } from 'node:stream';
 * declare const stream: Readable;
 * const reader = new ByteReader(stream, { file: 'orders.bson' });
 * if ((await reader.ensure(4)) === 4) console.log(reader.peekInt32(), reader.offset);
 */
export class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  readonly #file: string;
  readonly #chunks: Uint8Array[] = [];
  /** Bytes already consumed from `#chunks[0]`. */
  #head = 0;
  #buffered = 0;
  #offset = 0;
  #ended = false;
  /** The namespace being read, named in errors from the stream itself (a broken gzip). */
  collection: string | undefined;

  constructor(
    source: AsyncIterable<Uint8Array>,
    context: { readonly file: string; readonly collection?: string },
  ) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#file = context.file;
    this.collection = context.collection;
  }

  /** Bytes buffered now: a caller that needs no more than these need not await `ensure`. */
  get available(): number {
    return this.#buffered;
  }

  /** Consume `n` bytes that are buffered (`n <= available`), without awaiting. */
  drop(n: number): void {
    let rest = n;
    while (rest > 0) {
      const count = Math.min(rest, this.#chunks[0]!.length - this.#head);
      this.#advance(count);
      rest -= count;
    }
  }

  /** Absolute offset (in decompressed bytes) of the next unread byte. */
  get offset(): number {
    return this.#offset;
  }

  /** Buffer at least `n` bytes if the input has them; returns how many are available (≤ n only at the end). */
  async ensure(n: number): Promise<number> {
    while (this.#buffered < n && !this.#ended) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.#iterator.next();
      } catch (error) {
        throw this.#locate(error);
      }
      if (next.done) {
        this.#ended = true;
      } else if (next.value.length > 0) {
        this.#chunks.push(next.value);
        this.#buffered += next.value.length;
      }
    }
    return Math.min(n, this.#buffered);
  }

  /** The little-endian int32 at the current offset; call `ensure(4)` first. */
  peekInt32(): number {
    const first = this.#chunks[0];
    const at = this.#head;
    // Called for every frame of every collection an archive scan passes: no view allocated
    // in the common case of four bytes within one chunk.
    if (first && first.length - at >= 4)
      return first[at]! | (first[at + 1]! << 8) | (first[at + 2]! << 16) | (first[at + 3]! << 24);
    const bytes = this.#peek(4);
    return bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24);
  }

  /** The byte `n` positions ahead of the current offset; call `ensure(n + 1)` first. */
  peekByte(n: number): number {
    let index = n + this.#head;
    for (const chunk of this.#chunks) {
      if (index < chunk.length) return chunk[index]!;
      index -= chunk.length;
    }
    throw new RangeError(`peekByte(${n}) beyond buffered bytes`);
  }

  /**
   * Consume `n` buffered bytes into a fresh array. Copying (rather than returning a view)
   * keeps a small document from pinning a whole 1 MiB read chunk in memory, and `bson`
   * returns Binary values as views into the array we give it. A Buffer, so that the load
   * path can read strings out of it in place (bson-copy/).
   */
  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const chunk = this.#chunks[0]!;
      const count = Math.min(n - written, chunk.length - this.#head);
      out.set(chunk.subarray(this.#head, this.#head + count), written);
      written += count;
      this.#advance(count);
    }
    return out;
  }

  /** Discard `n` bytes without copying; returns how many were skipped (fewer only at the end). */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      const available = await this.ensure(1);
      if (available === 0) break;
      const chunk = this.#chunks[0]!;
      const count = Math.min(n - skipped, chunk.length - this.#head);
      this.#advance(count);
      skipped += count;
    }
    return skipped;
  }

  /** Stop reading; releases the underlying stream. */
  async close(): Promise<void> {
    this.#chunks.length = 0;
    this.#buffered = 0;
    await this.#iterator.return?.();
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.peekByte(i);
    return out;
  }

  #advance(count: number): void {
    this.#head += count;
    this.#buffered -= count;
    this.#offset += count;
    if (this.#head === this.#chunks[0]?.length) {
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  /** A gzip error names the file but not how far we got; the offset tells the user how much was readable. */
  #locate(error: unknown): unknown {
    if (!(error instanceof FerryError) || error.where.offset !== undefined) return error;
    const detail = error.cause instanceof Error ? error.cause.message : error.message;
    const readable = this.#offset + this.#buffered;
    // The same code and category as the error it wraps, which the catalogue allowed together.
    return new FerryError(`cannot read ${this.#file} past byte ${readable}: ${detail}`, {
      code: error.code,
      category: error.category,
      cause: error,
      where: {
        ...error.where,
        file: error.where.file ?? this.#file,
        offset: readable,
        ...(this.collection !== undefined && { collection: this.collection }),
      },
      ...(error.hint !== undefined && { hint: error.hint }),
    } as FerryErrorOptions);
  }
}
