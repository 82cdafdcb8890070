import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BSON, type Document } from 'bson';
import { writeChunksToFile } from '../bson/write-bytes.js';
import type { IndexSpec } from '../types.js';
import { formatDumpMetadata } from './dump-metadata.js';

/** One collection for our writers: its documents are pulled lazily, one at a time. */
export interface CollectionToWrite {
  readonly name: string;
  readonly indexes?: readonly IndexSpec[];
  readonly docs: AsyncIterable<Document> | Iterable<Document>;
}

export interface WriteDumpOptions {
  /** Write `.bson.gz` / `.metadata.json.gz` like `mongodump --gzip`. */
  readonly gzip?: boolean;
  readonly signal?: AbortSignal;
}

/** What a writer wrote, per collection. */
export interface WrittenCollection {
  readonly name: string;
  readonly documents: number;
  /** Uncompressed BSON bytes of the documents. */
  readonly bytes: number;
}

/**
 * Write collections as mongodump would lay them out: `<dir>/<db>/<name>.bson` plus
 * `<name>.metadata.json` in canonical Extended JSON. Documents are streamed, so the
 * collections may be far larger than memory. Used by `ferry demo` and tests.
 *
 * @example
 * import type { Document } from 'bson';
 * declare function generateOrders(n: number): Iterable<Document>;
 * await writeDumpDirectory('out/dump', 'shop', [
 *   { name: 'orders', indexes: [{ name: '_id_', key: { _id: 1 } }], docs: generateOrders(1_000_000) },
 * ], { gzip: true });
 */
export async function writeDumpDirectory(
  dir: string,
  db: string,
  collections: AsyncIterable<CollectionToWrite> | Iterable<CollectionToWrite>,
  options: WriteDumpOptions = {},
): Promise<WrittenCollection[]> {
  const folder = path.join(dir, db);
  await mkdir(folder, { recursive: true });
  const suffix = options.gzip ? '.gz' : '';
  const written: WrittenCollection[] = [];
  for await (const collection of collections) {
    options.signal?.throwIfAborted();
    const stem = path.join(folder, collectionFileName(collection.name));
    const metadata = formatDumpMetadata({
      collectionName: collection.name,
      indexes: collection.indexes ?? [],
    });
    await writeFile(`${stem}.metadata.json${suffix}`, options.gzip ? gzipSync(metadata) : metadata);
    const tally = { name: collection.name, documents: 0, bytes: 0 };
    await writeChunksToFile(`${stem}.bson${suffix}`, serializeDocs(collection.docs, tally, options.signal), {
      ...(options.gzip !== undefined && { gzip: options.gzip }),
      ...(options.signal && { signal: options.signal }),
    });
    written.push(tally);
  }
  return written;
}

/**
 * Serialize documents one by one, counting them as they go.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const docs: Document[];
 * declare const out: NodeJS.WritableStream;
 * const tally = { documents: 0, bytes: 0 };
 * for await (const bytes of serializeDocs(docs, tally)) out.write(bytes);
 */
export async function* serializeDocs(
  docs: AsyncIterable<Document> | Iterable<Document>,
  tally: { documents: number; bytes: number },
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  for await (const doc of docs) {
    if (tally.documents % 1024 === 0) signal?.throwIfAborted();
    const bytes = BSON.serialize(doc);
    tally.documents += 1;
    tally.bytes += bytes.length;
    yield bytes;
  }
}

/** mongodump percent-escapes what a file name cannot hold; the metadata keeps the real name. */
export function collectionFileName(name: string): string {
  return name.replace(/[%/\\\0]/g, (c) => encodeURIComponent(c));
}
