import type { Worker } from 'node:worker_threads';
import { startWorker } from '../core/start-worker.js';
import type { Plan } from '../mapping/model.js';
import type { TargetLocation } from './target-reader.js';

/** One collection for the thread to read and hash. */
export interface TargetHashRequest {
  readonly id: number;
  readonly collection: string;
  readonly schema: string;
  readonly batchSize: number;
}

/** What the thread sends back: pages of `[id hash, document hash]` pairs, then done or failed. */
export type TargetHashMessage =
  | { readonly id: number; readonly kind: 'page'; readonly hashes: BigUint64Array }
  | { readonly id: number; readonly kind: 'done' }
  | { readonly id: number; readonly kind: 'failed'; readonly message: string };

/** The thread failed or died: the caller reads the target itself, which reports any real error. */
export class TargetThreadFailed extends Error {}

/**
 * Deep verify's target side on a worker thread with its own connection: reading the rows,
 * rebuilding each document through `toDoc` and hashing it is most of a deep check's work, and
 * on a thread of its own it runs beside the source's hashing (source-hash-workers.ts) instead
 * of after it on one core. Only for a PostgreSQL server, whose URL the thread connects to.
 *
 * @example
 * declare const plan: Plan;
 * declare const url: string;
 * const thread = new TargetHashThread(plan, url);
 * for await (const pairs of thread.hashes({ plan, collection: 'orders', schema: 'public' }, 1000))
 *   console.log(pairs.length / 2);
 * await thread.close();
 */
export class TargetHashThread {
  #worker: Worker | undefined;
  #requests = 0;
  #listener: ((message: TargetHashMessage | undefined) => void) | undefined;

  constructor(
    private readonly plan: Plan,
    private readonly url: string,
  ) {}

  /**
   * The id hash and document hash of every document of the collection, a page at a time.
   * Throws `TargetThreadFailed` when the thread fails, whatever it had sent.
   */
  async *hashes(where: TargetLocation, batchSize: number): AsyncGenerator<BigUint64Array> {
    const worker = this.#start();
    const id = this.#requests++;
    const queue: (TargetHashMessage | undefined)[] = [];
    let wake: (() => void) | undefined;
    this.#listener = (message) => {
      if (message !== undefined && message.id !== id) return;
      queue.push(message);
      wake?.();
    };
    worker.postMessage({
      id,
      collection: where.collection,
      schema: where.schema,
      batchSize,
    } satisfies TargetHashRequest);
    let finished = false;
    try {
      for (;;) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const message = queue.shift();
        if (message === undefined || message.kind === 'failed')
          throw new TargetThreadFailed(message?.message);
        if (message.kind === 'done') {
          finished = true;
          return;
        }
        yield message.hashes;
      }
    } finally {
      this.#listener = undefined;
      // Stopped early (a failure elsewhere, an abort): the thread may still be reading; stop it.
      if (!finished) await this.#stop();
    }
  }

  /** Close the thread's connection and end it. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('close');
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = startWorker(import.meta.url, 'target-hash-worker', { plan: this.plan, url: this.url });
    worker.on('message', (message: TargetHashMessage) => this.#listener?.(message));
    worker.on('error', () => this.#listener?.(undefined));
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#listener?.(undefined);
    });
    this.#worker = worker;
    return worker;
  }

  async #stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }
}
