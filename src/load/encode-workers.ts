import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { PendingReplies } from '../core/pending-replies.js';
import { startWorker } from '../core/start-worker.js';
import type { Plan } from '../mapping/model.js';
import type { DecodeContext } from '../sources/bson/decode-frame.js';
import { type PackedFrames, packedTransfer, packFrames } from '../sources/bson/packed-frames.js';
import type { RawDocuments } from '../sources/types.js';
import type { EncodedParts } from './chunk-encoder.js';
import { EncodedDocuments } from './encoded-documents.js';
import type { RejectRecord } from './reject-record.js';

/** A batch of frames for the encoding thread: their bytes packed into one movable buffer. */
export interface EncodeRequest extends PackedFrames {
  readonly id: number;
  readonly context: DecodeContext;
  /** Write binary COPY rows where the table allows (see `ChunkEncoder`). */
  readonly binary: boolean;
}

export type EncodeReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly parts: EncodedParts;
      /** The frames (by index) that became documents, in order. */
      readonly encoded: Int32Array;
      readonly rejects: RejectRecord[];
      /** Frames that did not decode, for `noteRejects`. */
      readonly unreadable: number;
    }
  | { readonly id: number; readonly ok: false; readonly message: string };

export interface EncodeWorkersOptions {
  /** Threads; default one less than the cores (at least one), 0 turns the pool off. */
  readonly threads?: number;
  /** Batches encoded on the calling thread before the pool starts: small loads never pay for a thread. */
  readonly warmup?: number;
  /** Told of every batch encoded on a thread (tests, diagnostics). */
  readonly onThreadBatch?: () => void;
}

/**
 * Encoding on worker threads, so that the thread that talks to PostgreSQL is never busy
 * encoding while a reply waits, and encoding uses a core PostgreSQL leaves free. Only for
 * BSON frames of a plan without transforms (user code stays on the calling thread).
 *
 * `encode` resolves to undefined when the caller should encode the batch itself: during
 * warm-up, with the pool off, or after a thread failed (the batch is then encoded again on
 * the calling thread, which reports any real error itself).
 *
 * @example
 * declare const plan: Plan;
 * declare const batch: SourceBatch;
 * const workers = new EncodeWorkers(plan);
 * declare const raw: RawDocuments;
 * const encoded = await workers.encode(raw, true); // undefined: encode in this thread
 * await workers.close();
 */
export class EncodeWorkers {
  readonly #plan: Plan;
  readonly #threads: number;
  readonly #onThreadBatch: (() => void) | undefined;
  #warmup: number;
  #workers: Worker[] | undefined;
  #next = 0;
  #failed = false;
  #requests = 0;
  readonly #pending = new PendingReplies<EncodeReply>();

  constructor(plan: Plan, options: EncodeWorkersOptions = {}) {
    this.#plan = plan;
    this.#threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    this.#warmup = options.warmup ?? 3;
    this.#onThreadBatch = options.onThreadBatch;
  }

  async encode(
    raw: RawDocuments,
    binary: boolean,
  ): Promise<{ docs: EncodedDocuments; rejects: RejectRecord[] } | undefined> {
    if (this.#threads === 0 || this.#failed) return undefined;
    if (this.#warmup > 0) {
      this.#warmup--;
      return undefined;
    }
    if (this.#workers === undefined) this.#workers = this.#start();
    const workers = this.#workers;
    const worker = workers[this.#next++ % workers.length]!;
    const id = this.#requests++;
    const { request, transfer } = pack(id, raw, binary);
    const reply = await this.#pending.send(id, () => worker.postMessage(request, transfer));
    if (reply === undefined || !reply.ok) return undefined;
    if (reply.unreadable > 0) raw.noteRejects(reply.unreadable);
    this.#onThreadBatch?.();
    const texts = reply.parts.texts.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength));
    const origins = Array.from(reply.encoded, (i) => raw.frames[i]!.bytes);
    return {
      docs: new EncodedDocuments(
        texts,
        reply.parts.binary,
        reply.parts.byteEnds,
        reply.parts.rowEnds,
        origins,
      ),
      rejects: reply.rejects,
    };
  }

  async close(): Promise<void> {
    const workers = this.#workers ?? [];
    this.#workers = undefined;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #start(): Worker[] {
    return Array.from({ length: this.#threads }, () => {
      const worker = startWorker(import.meta.url, 'encode-worker', { plan: this.#plan });
      worker.on('message', (reply: EncodeReply) => this.#pending.settle(reply.id, reply));
      worker.on('error', () => this.#fail());
      worker.on('exit', () => this.#fail());
      return worker;
    });
  }

  /** A thread died: every batch it held is encoded again by its caller, and the pool is off. */
  #fail(): void {
    if (this.#workers === undefined) return; // closed on purpose
    this.#failed = true;
    this.#pending.settleAll();
  }
}

function pack(
  id: number,
  raw: RawDocuments,
  binary: boolean,
): { request: EncodeRequest; transfer: ArrayBuffer[] } {
  const packed = packFrames(raw.frames);
  return { request: { id, context: raw.context, binary, ...packed }, transfer: packedTransfer(packed) };
}
