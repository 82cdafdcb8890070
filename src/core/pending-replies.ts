/**
 * Requests sent to worker threads and waiting for their replies, by request id. A thread
 * that dies settles everything it held with `undefined`, so each caller can redo its own
 * request on the calling thread instead of waiting forever.
 *
 * @example
 * import type { Worker } from 'node:worker_threads';
 * declare const worker: Worker;
 * const pending = new PendingReplies<{ id: number; ok: boolean }>();
 * worker.on('message', (reply: { id: number; ok: boolean }) => pending.settle(reply.id, reply));
 * worker.on('exit', () => pending.settleAll());
 * const reply = await pending.send(7, () => worker.postMessage({ id: 7 })); // undefined if it died
 */
export class PendingReplies<Reply> {
  readonly #waiting = new Map<number, (reply: Reply | undefined) => void>();

  /** Register request `id`, then `post` it; resolves to its reply, or undefined when settled empty. */
  send(id: number, post: () => void): Promise<Reply | undefined> {
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      post();
    });
  }

  settle(id: number, reply: Reply | undefined): void {
    const resolve = this.#waiting.get(id);
    this.#waiting.delete(id);
    resolve?.(reply);
  }

  /** Every request still waiting gets no reply. */
  settleAll(): void {
    for (const id of [...this.#waiting.keys()]) this.settle(id, undefined);
  }
}
