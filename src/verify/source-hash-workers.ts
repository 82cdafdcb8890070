import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { PendingReplies } from '../core/pending-replies.js';
import { startWorker } from '../core/start-worker.js';
import type { DecodeContext } from '../sources/bson/decode-frame.js';
import { type PackedFrames, packedTransfer, packFrames } from '../sources/bson/packed-frames.js';
import type { RawDocuments } from '../sources/types.js';
import { type FrameHashes, hashFrames } from './source-hashes.js';

/** A batch of source frames for a hashing thread. */
export interface HashRequest extends PackedFrames {
  readonly id: number;
  readonly context: DecodeContext;
}

export type HashReply =
  | ({ readonly id: number; readonly ok: true } & FrameHashes)
  | { readonly id: number; readonly ok: false; readonly message: string };

export interface SourceHashWorkersOptions {
  /** Threads; default one less than the cores (at least one), 0 hashes on the calling thread. */
  readonly threads?: number;
  /** Batches hashed on the calling thread before the threads start: small checks never pay for one. */
  readonly warmup?: number;
}

/**
 * Deep verify's source side on worker threads: while the calling thread reads the target and
 * rebuilds its documents through `toDoc`, another core hashes the source's BSON. The hashes
 * are the same wherever they are computed (`hashFrames`), so a thread that fails only moves
 * the work back to the calling thread.
 *
 * @example
 * declare const raw: RawDocuments;
 * const hashers = new SourceHashWorkers();
 * try {
 *   const { documents, hashes } = await hashers.hash(raw);
 * } finally {
 *   await hashers.close();
 * }
 */
export class SourceHashWorkers {
  readonly #threads: number;
  #warmup: number;
  #workers: Worker[] | undefined;
  #failed = false;
  #next = 0;
  #requests = 0;
  readonly #pending = new PendingReplies<HashReply>();

  constructor(options: SourceHashWorkersOptions = {}) {
    this.#threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    this.#warmup = options.warmup ?? 3;
  }

  /** The batch's hashes; its undecodable frames are reported to the source (`noteRejects`). */
  async hash(raw: RawDocuments): Promise<FrameHashes> {
    const result = (await this.#onThread(raw)) ?? hashFrames(raw.frames, raw.context);
    if (result.unreadable > 0) raw.noteRejects(result.unreadable);
    return result;
  }

  async close(): Promise<void> {
    const workers = this.#workers ?? [];
    this.#workers = undefined;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  async #onThread(raw: RawDocuments): Promise<FrameHashes | undefined> {
    if (this.#threads === 0 || this.#failed) return undefined;
    if (this.#warmup > 0) {
      this.#warmup--;
      return undefined;
    }
    this.#workers ??= Array.from({ length: this.#threads }, () => {
      const worker = startWorker(import.meta.url, 'source-hash-worker', undefined);
      worker.on('message', (reply: HashReply) => this.#pending.settle(reply.id, reply));
      worker.on('error', () => this.#fail());
      worker.on('exit', () => this.#fail());
      return worker;
    });
    const worker = this.#workers[this.#next++ % this.#workers.length]!;
    const id = this.#requests++;
    const packed = packFrames(raw.frames);
    const reply = await this.#pending.send(id, () =>
      worker.postMessage(
        { id, context: raw.context, ...packed } satisfies HashRequest,
        packedTransfer(packed),
      ),
    );
    return reply?.ok === true ? reply : undefined;
  }

  /** A thread died: every batch it held is hashed again by its caller, and the threads are off. */
  #fail(): void {
    if (this.#workers === undefined) return; // closed on purpose
    this.#failed = true;
    this.#pending.settleAll();
  }
}
