import { type WriteArchiveOptions, writeArchive } from '../../sources/archive/write-archive.js';
import type { WrittenCollection } from '../../sources/dump/write-dump-directory.js';
import { generateMarketplace, type MarketplaceOptions } from './generate-marketplace.js';

/** The database name the marketplace archive restores into. */
export const MARKETPLACE_DB = 'marketplace';

export interface MarketplaceArchiveOptions extends MarketplaceOptions {
  /** Gzip the archive, like `mongodump --archive --gzip`. */
  readonly gzip?: boolean;
  readonly signal?: AbortSignal;
  /** Documents written so far of a collection's `total`, every few hundred and at its end. */
  readonly onProgress?: (progress: { collection: string; written: number; total: number }) => void;
}

/**
 * Generate the marketplace and write it as a mongodump archive (database `marketplace`)
 * with our own streaming writer: collections interleave in the archive as they do in a real
 * `mongodump --archive`, and memory stays flat whatever the scale. Returns the documents and
 * BSON bytes written per collection.
 *
 * @example
 * const written = await writeMarketplaceArchive('demo.archive.gz', { seed: 1, scale: 100_000, gzip: true });
 * // mongorestore --archive=demo.archive.gz --gzip, or: ferry migrate demo.archive.gz
 */
export async function writeMarketplaceArchive(
  file: string,
  options: MarketplaceArchiveOptions,
): Promise<WrittenCollection[]> {
  const collections = generateMarketplace(options).map((c) => ({
    name: c.name,
    indexes: c.indexes,
    docs: options.onProgress ? counted(c.name, c.count, c.docs(), options.onProgress) : c.docs(),
  }));
  const writeOptions: WriteArchiveOptions = {
    ...(options.gzip !== undefined && { gzip: options.gzip }),
    ...(options.signal && { signal: options.signal }),
  };
  return writeArchive(file, MARKETPLACE_DB, collections, writeOptions);
}

/** Pass documents through, reporting how many went by. */
function* counted<T>(
  collection: string,
  total: number,
  docs: Iterable<T>,
  report: NonNullable<MarketplaceArchiveOptions['onProgress']>,
): Generator<T> {
  let written = 0;
  for (const doc of docs) {
    yield doc;
    written++;
    if (written % 500 === 0) report({ collection, written, total });
  }
  // The end, unless the last report was it already: each count is reported once.
  if (written === 0 || written % 500 !== 0) report({ collection, written, total });
}
