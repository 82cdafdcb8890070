import { parentPort, type TransferListItem } from 'node:worker_threads';
import type { PageStreamCommand, PageStreamMessage } from './page-stream-thread.js';

/** One page a stream produced, and the buffers to move (not copy) to the calling thread. */
export interface ServedPage<Page> {
  readonly page: Page;
  readonly transfer?: readonly TransferListItem[];
}

/**
 * The thread's side of `PageStreamThread`: runs `produce` for each request and sends its
 * pages, never more than the caller has allowed (its credit), then done, or failed with the
 * error's message. On 'close', runs `close` (the thread's connection) and exits.
 *
 * @example
 * servePageStreams(
 *   async function* (request: { n: number }) {
 *     for (let i = 0; i < request.n; i++) yield { page: i };
 *   },
 *   async () => undefined,
 * );
 */
export function servePageStreams<Request, Page>(
  produce: (request: Request) => AsyncIterable<ServedPage<Page>>,
  close: () => Promise<void>,
): void {
  const streams = new Map<number, { credit: number; wake: (() => void) | undefined }>();
  parentPort?.on('message', (command: PageStreamCommand<Request>) => {
    if (command === 'close') {
      void close().finally(() => process.exit(0));
      return;
    }
    if (command.kind === 'more') {
      const stream = streams.get(command.id);
      if (stream === undefined) return;
      stream.credit++;
      stream.wake?.();
      return;
    }
    const stream = { credit: command.credit, wake: undefined as (() => void) | undefined };
    streams.set(command.id, stream);
    void run(command.id, command.request, stream).finally(() => streams.delete(command.id));
  });

  async function run(
    id: number,
    request: Request,
    stream: { credit: number; wake: (() => void) | undefined },
  ) {
    const post = (message: PageStreamMessage<Page>, transfer: readonly TransferListItem[] = []) =>
      parentPort!.postMessage(message, transfer as TransferListItem[]);
    try {
      for await (const { page, transfer } of produce(request)) {
        while (stream.credit === 0) await new Promise<void>((resolve) => (stream.wake = resolve));
        stream.wake = undefined;
        stream.credit--;
        post({ id, kind: 'page', page }, transfer);
      }
      post({ id, kind: 'done' });
    } catch (error) {
      post({ id, kind: 'failed', message: (error as Error).message });
    }
  }
}
