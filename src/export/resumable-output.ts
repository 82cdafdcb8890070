import { type FileHandle, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/**
 * An output file written in checkpointed steps, so an export killed at any moment can be
 * resumed without a duplicated or a missing document.
 *
 * Bytes are buffered until `flush()`, which appends them, fsyncs, and returns the new
 * length. The caller records that length in its journal only after `flush()` resolves, so
 * the journal never points past durable bytes. On resume the file is cut back to the
 * recorded length: whatever a killed run wrote after its last checkpoint goes, and the
 * export carries on from the checkpoint's key.
 *
 * With gzip, each flush is one complete gzip member. Concatenated members are one valid
 * gzip stream (RFC 1952 §2.2; gunzip, Node's zlib and Go's gzip reader, which mongorestore
 * uses, all read them), and cutting the file at a member boundary leaves a valid stream.
 *
 * @example
 * declare const bytes: Uint8Array;
 * const out = await ResumableOutput.open('orders.bson.gz', { gzip: true, resumeAt: 0 });
 * out.write(bytes);
 * const length = await out.flush();  // record `length` in the journal now
 * await out.close();
 */
export class ResumableOutput {
  readonly #file: FileHandle;
  readonly #gzip: boolean;
  #length: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  private constructor(file: FileHandle, gzip: boolean, length: number) {
    this.#file = file;
    this.#gzip = gzip;
    this.#length = length;
  }

  /** Open `file` for writing, cut back to `resumeAt` bytes (0: start afresh). */
  static async open(file: string, options: { gzip: boolean; resumeAt: number }): Promise<ResumableOutput> {
    await mkdir(path.dirname(file), { recursive: true });
    // 'a+' never truncates on open, and creates the file when missing; the cut is explicit.
    const handle = await open(file, 'a+');
    try {
      await handle.truncate(options.resumeAt);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new ResumableOutput(handle, options.gzip, options.resumeAt);
  }

  /** Bytes since the last flush, held in memory (one page of documents). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  write(bytes: Uint8Array): void {
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
  }

  /** Append what was written since the last flush, durably; resolves to the file's length. */
  async flush(): Promise<number> {
    if (this.#pendingBytes === 0) return this.#length;
    const plain = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    const bytes = this.#gzip ? await gzip(plain) : plain;
    // 'a+' appends whatever position is given, so the length we track is the file's end.
    await this.#file.write(bytes, 0, bytes.length);
    await this.#file.sync();
    this.#length += bytes.length;
    return this.#length;
  }

  async close(): Promise<void> {
    await this.#file.close();
  }
}
