import { openArchiveSource } from './archive/archive-source.js';
import { detectSourceKind } from './detect.js';
import { openDumpSource } from './dump/dump-source.js';
import { openEjsonSource } from './ejson/ejson-source.js';
import { detectJsonFlavour } from './json/detect-json-flavour.js';
import { type JsonSourceOptions, openJsonSource } from './json/json-source.js';
import type { Source } from './types.js';

/**
 * What `openSource` cannot learn from the source itself.
 *
 * @example
 * await openSource('data/', { json: { idField: 'uuid', pointer: '/records' } });
 */
export interface OpenSourceOptions {
  /** Plain JSON only: how records get their `_id`, and which part of a file is a collection. */
  readonly json?: JsonSourceOptions;
  /** Live server only: how long to wait for the server before giving up (ms). */
  readonly serverSelectionTimeoutMs?: number;
}

/**
 * Open any source from what the user typed: a `mongodb://` URI, a mongodump directory or
 * archive (gzipped or not), mongoexport files, or plain JSON files. The kind is detected from
 * the content (see `detectSourceKind` and `detectJsonFlavour`), so renamed files still work.
 *
 * @example
 * const source = await openSource('../shared/datasets/sample_supplies.archive.gz');
 * for await (const batch of source.readAll()) console.log(batch.collection, batch.docs.length);
 * await source.close();
 */
export async function openSource(location: string, options: OpenSourceOptions = {}): Promise<Source> {
  const kind = await detectSourceKind(location);
  switch (kind) {
    case 'mongodb':
      // Imported on use: the MongoDB driver is the largest module Ferry loads (~1 s of start-up).
      return (await import('./mongodb/mongo-source.js')).openMongoSource(
        location,
        options.serverSelectionTimeoutMs === undefined
          ? {}
          : { serverSelectionTimeoutMs: options.serverSelectionTimeoutMs },
      );
    case 'archive':
      return openArchiveSource(location);
    case 'dump':
      return openDumpSource(location);
    case 'ejson':
      return openEjsonSource(location);
    case 'json':
      return openJsonSource(location, options.json);
    case 'json-like': {
      // Explicit JSON options only make sense for plain JSON, so they decide it.
      if (options.json) return openJsonSource(location, options.json);
      const { flavour } = await detectJsonFlavour(location);
      return flavour === 'ejson' ? openEjsonSource(location) : openJsonSource(location);
    }
  }
}
