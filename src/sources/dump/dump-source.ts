import { FerryError } from '../../core/errors.js';
import { countBsonFile, readBsonFile } from '../bson/read-bson-file.js';
import type { CollectionInfo, ReadOptions, Source, SourceBatch } from '../types.js';
import { type DumpCollection, discoverDump } from './dump-layout.js';
import { type FileReadAllOptions, planReadAll, requireCollection } from './select-collections.js';

/**
 * A mongodump directory (`dump/<db>/<coll>.bson[.gz]` + `.metadata.json[.gz]`), one database
 * folder of it, or a single `.bson` file, as a `Source`. Files are read in file order and
 * resume by byte offset; counts are exact because they come from reading the files.
 *
 * @example
 * const source = await openDumpSource('dump/');
 * for await (const batch of source.readAll()) console.log(batch.collection, batch.docs.length);
 * await source.close();
 */
export async function openDumpSource(location: string): Promise<DumpSource> {
  return new DumpSource(location, await discoverDump(location));
}

export class DumpSource implements Source {
  readonly kind = 'dump' as const;
  readonly location: string;
  readonly #collections: readonly DumpCollection[];
  readonly #counts = new Map<string, number>();
  #closed = false;

  /** Use `openDumpSource`, which finds the collections. */
  constructor(location: string, collections: readonly DumpCollection[]) {
    this.location = location;
    this.#collections = collections;
  }

  async listCollections(): Promise<readonly CollectionInfo[]> {
    this.#checkOpen();
    return this.#collections.map((c) => ({
      name: c.name,
      ...(c.database !== undefined && { database: c.database }),
      indexes: c.indexes,
    }));
  }

  async countDocuments(collection: string): Promise<number> {
    this.#checkOpen();
    const found = requireCollection(this.#collections, collection, this.location);
    const cached = this.#counts.get(found.name);
    if (cached !== undefined) return cached;
    const count = found.dataFile ? await countBsonFile(found.dataFile, { collection: found.namespace }) : 0;
    this.#counts.set(found.name, count);
    return count;
  }

  async *read(collection: string, options?: ReadOptions): AsyncGenerator<SourceBatch> {
    this.#checkOpen();
    const found = requireCollection(this.#collections, collection, this.location);
    if (!found.dataFile) return;
    yield* readBsonFile(found.dataFile, { ...options, collection: found.name, namespace: found.namespace });
  }

  /** Collection after collection, in name order; see `FileReadAllOptions` for per-collection resume. */
  async *readAll(options?: FileReadAllOptions): AsyncGenerator<SourceBatch> {
    this.#checkOpen();
    for (const { item, after } of planReadAll(this.#collections, options, this.location)) {
      const { only: _only, resume: _resume, after: _after, ...rest } = options ?? {};
      yield* this.read(item.name, { ...rest, ...(after && { after }) });
    }
  }

  async close(): Promise<void> {
    // Every read opens and closes its own file, so there is nothing held open here.
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new FerryError(`source ${this.location} is closed`, {
        code: 'SOURCE_CLOSED',
        category: 'internal',
      });
    }
  }
}
