import type { Readable } from 'node:stream';
import { FerryError } from '../../core/errors.js';

/**
 * One record's bytes as found in a text file: a JSONL line (without its newline) or one
 * element of a top-level JSON array. Offsets count decompressed bytes from the start of
 * the file, so a resume position means the same thing for plain and gzipped input.
 */
export interface RawRecord {
  /** The record's bytes; only the first `maxRecordBytes` when `oversize`. */
  readonly bytes: Buffer;
  /** 1-based line where the record starts. */
  readonly line: number;
  /** Byte offset where the record starts. */
  readonly offset: number;
  /** Byte offset just after the record (and its newline): where a resume continues. */
  readonly end: number;
  /** Total byte length, also when `bytes` was cut short. */
  readonly length: number;
  /** The record was longer than `maxRecordBytes`; we kept a prefix instead of buffering it all. */
  readonly oversize: boolean;
}

/** Where a reader starts: at the beginning, or at a resume point previously returned as `end`. */
export interface RecordReaderStart {
  readonly offset: number;
  readonly maxRecordBytes: number;
  readonly signal?: AbortSignal;
}

/**
 * The decompressed byte stream from `start.offset` on, plus the number of newlines in the
 * skipped prefix. We re-read the prefix instead of seeking because gzip cannot seek, and
 * because counting its lines is what lets rejects after a resume still name the right
 * line; counting newlines runs at memory speed next to parsing.
 *
 * @example
 * import type { Readable } from 'node:stream';
 * declare const stream: Readable;
 * const from = await skipTo(stream, 1024);
 * // from.head (the rest of the chunk offset 1024 fell into), then from.chunks.next() …
 * console.log(from.head?.length, from.linesBefore);
 */
export async function skipTo(
  stream: Readable,
  offset: number,
  where: { readonly file?: string; readonly collection?: string } = {},
): Promise<SkippedPrefix> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let skipped = 0;
  let linesBefore = 0;
  let previous: number | undefined;
  while (skipped < offset) {
    const next = await iterator.next();
    if (next.done) {
      throw new FerryError(`resume offset ${offset} is past the end of the input (${skipped} bytes)`, {
        code: 'SOURCE_BAD_RESUME_POSITION',
        category: 'input',
        where: { ...where, offset },
        hint: 'the file changed since the position was taken; start the collection again',
      });
    }
    const chunk = next.value;
    const take = Math.min(chunk.length, offset - skipped);
    linesBefore += countNewlines(chunk, take);
    skipped += take;
    previous = chunk[take - 1];
    if (take < chunk.length) return { chunks: iterator, linesBefore, head: chunk.subarray(take), previous };
  }
  return { chunks: iterator, linesBefore, head: undefined, previous };
}

/** The rest of a stream after `skipTo`. */
export interface SkippedPrefix {
  readonly chunks: AsyncIterator<Buffer>;
  /** Newlines in the skipped bytes, so line numbers after a resume stay right. */
  readonly linesBefore: number;
  /** What was left of the chunk the offset fell into. */
  readonly head: Buffer | undefined;
  /** The last skipped byte (undefined at offset 0). */
  readonly previous: number | undefined;
}

function countNewlines(chunk: Buffer, end: number): number {
  let count = 0;
  let at = chunk.indexOf(10);
  while (at !== -1 && at < end) {
    count++;
    at = chunk.indexOf(10, at + 1);
  }
  return count;
}

/** Chunks from `skipTo`, with its leftover head first, and abort checks between chunks. */
export async function* chunksAfter(
  from: { chunks: AsyncIterator<Buffer>; head: Buffer | undefined },
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  if (from.head !== undefined && from.head.length > 0) yield from.head;
  for (;;) {
    signal?.throwIfAborted();
    const next = await from.chunks.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Collects one record's bytes across chunks without ever holding more than `limit` bytes,
 * so a runaway line (a 1 GB line, binary garbage without newlines) cannot exhaust memory.
 */
export class RecordBuffer {
  private pieces: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.total;
  }

  append(piece: Buffer): void {
    this.total += piece.length;
    const room = this.limit - this.kept;
    if (room <= 0) return;
    // Copy: the chunk may be reused by the stream once we move on.
    const kept = piece.length <= room ? piece : piece.subarray(0, room);
    this.pieces.push(Buffer.from(kept));
    this.kept += kept.length;
  }

  /** The record, built from the pieces plus `last` (a view into the current chunk). */
  take(last: Buffer): { bytes: Buffer; length: number; oversize: boolean } {
    if (this.pieces.length === 0 && last.length <= this.limit) {
      return { bytes: last, length: last.length, oversize: false };
    }
    this.append(last);
    const result = {
      bytes: Buffer.concat(this.pieces, this.kept),
      length: this.total,
      oversize: this.total > this.limit,
    };
    this.pieces = [];
    this.kept = 0;
    this.total = 0;
    return result;
  }
}
