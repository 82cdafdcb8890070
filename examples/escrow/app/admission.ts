import { busy } from './errors.js';

/**
 * Admission control: at most `limit` requests that touch a store run at once in an instance;
 * the next one is refused at once with 503 `BUSY` (`retry: true`), which costs the instance
 * nothing.
 *
 * Why: a client that retries (the load generator, any payment client) offers work at its own
 * rate, not at the stores'. Without a limit an instance takes everything in while a store is
 * slow or away; the requests pile up inside it (each waiting for a driver or pool connection,
 * each timing out at the client and coming back as a retry that piles up too), so when the
 * store returns the instance works through thousands of requests whose clients left long ago
 * and answers nothing in time. With a limit it stays as fast as the stores allow and tells the
 * rest to come back.
 *
 * The slot is held for the whole store work, in `finally`, not by HTTP hooks: work whose client
 * has gone away still runs, and still takes its share of the stores.
 */
export class Admission {
  #running = 0;

  constructor(readonly limit: number) {}

  get running(): number {
    return this.#running;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) throw busy();
    this.#running++;
    try {
      return await work();
    } finally {
      this.#running--;
    }
  }
}
