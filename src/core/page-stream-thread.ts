import type { Worker } from 'node:worker_threads';
import { startWorker } from './start-worker.js';

/** What the caller sends a page-stream thread: start a stream, allow one more page, or close. */
export type PageStreamCommand<Request> =
  | { readonly id: number; readonly kind: 'start'; readonly request: Request; readonly credit: number }
  | { readonly id: number; readonly kind: 'more' }
  | 'close';

/** What a page-stream thread sends back: pages of one stream, then done or failed. */
export type PageStreamMessage<Page> =
  | { readonly id: number; readonly kind: 'page'; readonly page: Page }
  | { readonly id: number; readonly kind: 'done' }
  | { readonly id: number; readonly kind: 'failed'; readonly message: string };

/**
 * The thread failed or died. Whatever it had sent stays valid; the caller carries on from
 * there on its own thread, which reports any real error itself.
 */
export class PageThreadFailed extends Error {}

/**
 * A worker thread that streams pages of one job at a time (read a collection from the target
 * on its own connection, rebuild and hash or encode it) to the calling thread. Flow control
 * by credit: the thread sends at most `ahead` pages the caller has not taken yet, so memory
 * stays a few pages however far the caller falls behind. Deep verify's target side and the
 * export's page encoding both run on it; the thread's script answers with `servePageStreams`.
 *
 * @example
 * declare const url: string;
 * const thread = new PageStreamThread<{ collection: string }, BigUint64Array>(import.meta.url, 'target-hash-worker', { url });
 * for await (const page of thread.pages({ collection: 'orders' }, 2)) console.log(page.length);
 * await thread.close();
 */
export class PageStreamThread<Request, Page> {
  #worker: Worker | undefined;
  #streams = 0;
  #listener: ((message: PageStreamMessage<Page> | undefined) => void) | undefined;

  /** `callerUrl` and `script` locate the thread's script as `startWorker` does. */
  constructor(
    private readonly callerUrl: string,
    private readonly script: string,
    private readonly workerData: unknown,
  ) {}

  /**
   * The pages of one job, in order. Throws `PageThreadFailed` when the thread fails, after
   * the pages it sent before.
   */
  async *pages(request: Request, ahead: number): AsyncGenerator<Page> {
    const worker = this.#start();
    const id = this.#streams++;
    const queue: (PageStreamMessage<Page> | undefined)[] = [];
    let wake: (() => void) | undefined;
    this.#listener = (message) => {
      if (message !== undefined && message.id !== id) return;
      queue.push(message);
      wake?.();
    };
    const start: PageStreamCommand<Request> = { id, kind: 'start', request, credit: Math.max(1, ahead) };
    worker.postMessage(start);
    let finished = false;
    try {
      for (;;) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        const message = queue.shift();
        if (message === undefined || message.kind === 'failed') throw new PageThreadFailed(message?.message);
        if (message.kind === 'done') {
          finished = true;
          return;
        }
        // Taken: the thread may send one more.
        worker.postMessage({ id, kind: 'more' } satisfies PageStreamCommand<Request>);
        yield message.page;
      }
    } finally {
      this.#listener = undefined;
      // Stopped early (a failure elsewhere, an abort): the thread may still be reading; stop it.
      if (!finished) await this.#stop();
    }
  }

  /** Let the thread close what it opened (its connection), and end it. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('close' satisfies PageStreamCommand<Request>);
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = startWorker(this.callerUrl, this.script, this.workerData);
    worker.on('message', (message: PageStreamMessage<Page>) => this.#listener?.(message));
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
