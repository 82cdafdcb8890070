import { scanArchive } from '../sources/archive/scan-archive.js';
import type { Source } from '../sources/types.js';
import type { ProgressReporter } from './progress.js';

/**
 * Give the progress bars of an archive real totals by counting its documents in the
 * background: an archive carries no counts, but one pass over its frames, without decoding
 * them, counts every collection, far quicker than the load it measures. Each collection's
 * total arrives with its end-of-collection block; until then its bar is an honest spinner.
 * A live server gives estimates with the load itself. Other files are not counted: that
 * would mean reading them twice. Counting never fails the command: progress is best effort,
 * and the returned function stops the scan, so it never keeps the process alive.
 *
 * @example
 * declare const source: Source;
 * declare const progress: ProgressReporter;
 * declare const options: BackfillOptions;
 * const stopCounting = countInBackground(source, progress);
 * try {
 *   await backfill({ ...options, source });
 * } finally {
 *   stopCounting();
 * }
 */
export function countInBackground(source: Source, progress: ProgressReporter): () => void {
  if (source.kind !== 'archive' || !progress.active) return () => {};
  let stopped = false;
  const abort = new AbortController();
  const scan = scanArchive(source.location, { signal: abort.signal });
  void (async () => {
    const names = (await source.listCollections()).map((c) => c.name);
    const nameOf = (namespace: string) =>
      names.find((n) => n === namespace) ?? names.find((n) => namespace.endsWith(`.${n}`));
    const counts = new Map<string, number>();
    for await (const event of scan) {
      if (stopped) break;
      if (event.kind === 'frame') counts.set(event.namespace, (counts.get(event.namespace) ?? 0) + 1);
      else if (event.kind === 'end') {
        const name = nameOf(event.namespace);
        if (name !== undefined) progress.setTotal(name, counts.get(event.namespace) ?? 0);
      }
    }
  })().catch(() => {});
  return () => {
    stopped = true;
    abort.abort();
  };
}
