import { PageStreamThread, PageThreadFailed } from '../core/page-stream-thread.js';
import type { Plan } from '../mapping/model.js';
import type { TargetLocation } from './target-reader.js';

/** One collection (or one key range of it) for the thread to read and hash. */
export interface TargetHashRequest {
  readonly collection: string;
  readonly schema: string;
  readonly batchSize: number;
  /** Bounds as `keyRangeBounds` gives them: text, which any key type survives a thread boundary as. */
  readonly after?: string;
  readonly until?: string;
}

/** The thread failed or died: the caller reads the target itself, which reports any real error. */
export { PageThreadFailed as TargetThreadFailed };

/** Pages the thread may hash before the caller takes them (a page is two hashes per document). */
const PAGES_AHEAD = 4;

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
  readonly #thread: PageStreamThread<TargetHashRequest, BigUint64Array>;

  constructor(plan: Plan, url: string) {
    this.#thread = new PageStreamThread(import.meta.url, 'target-hash-worker', { plan, url });
  }

  /**
   * The id hash and document hash of every document of the collection (of `range`, bounds
   * from `keyRangeBounds`), a page at a time. Throws `TargetThreadFailed` when the thread
   * fails, whatever it had sent.
   */
  hashes(
    where: TargetLocation,
    batchSize: number,
    range: { readonly after?: string; readonly until?: string } = {},
  ): AsyncGenerator<BigUint64Array> {
    return this.#thread.pages(
      { collection: where.collection, schema: where.schema, batchSize, ...range },
      PAGES_AHEAD,
    );
  }

  /** Close the thread's connection and end it. */
  close(): Promise<void> {
    return this.#thread.close();
  }
}
