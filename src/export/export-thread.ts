import { PageStreamThread } from '../core/page-stream-thread.js';
import type { Plan } from '../mapping/model.js';
import type { EncodedPage, PageEncoding, PageStart } from './export-page.js';

/**
 * Pages the thread may encode before the writer takes them. The writer appends, fsyncs and
 * journals one page while the thread encodes the next two: memory stays a few pages.
 */
const PAGES_AHEAD = 2;

/**
 * One lane of an export on a worker thread with its own connection to the target: reading
 * the rows, rebuilding each document through `toDoc`, encoding it and hashing it is nearly
 * all of an export's work, and on threads it runs beside the writing (and beside the other
 * lane) instead of taking turns with it on one core. The thread never writes the output: the
 * calling thread appends each page, fsyncs and journals it, as without threads. Only for a
 * PostgreSQL server, whose URL the thread connects to.
 *
 * @example
 * declare const plan: Plan;
 * declare const url: string;
 * const thread = new ExportThread(plan, url, { format: 'archive', db: 'shop' });
 * const start = { collection: 'orders', schema: 'public', pageSize: 5000, position: 0 };
 * for await (const page of thread.pages(start)) console.log(page.documents);
 * await thread.close();
 */
export class ExportThread {
  readonly #thread: PageStreamThread<PageStart, EncodedPage>;

  constructor(plan: Plan, url: string, encoding: PageEncoding) {
    this.#thread = new PageStreamThread(import.meta.url, 'export-worker', { plan, url, encoding });
  }

  /** A collection's encoded pages from `start`; throws `PageThreadFailed` when the thread fails. */
  pages(start: PageStart): AsyncGenerator<EncodedPage> {
    return this.#thread.pages(start, PAGES_AHEAD);
  }

  close(): Promise<void> {
    return this.#thread.close();
  }
}
