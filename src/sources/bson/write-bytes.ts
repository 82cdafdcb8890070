import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * Stream chunks to a file, gzipped or not, with backpressure: the producer is only asked
 * for the next chunk when the file (or gzip) has room, so a generator over a million
 * documents never has more than a few in memory.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const docs: Document[];
 * await writeChunksToFile('orders.bson.gz', serializeDocs(docs, { documents: 0, bytes: 0 }), { gzip: true });
 */
export async function writeChunksToFile(
  file: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: { readonly gzip?: boolean; readonly signal?: AbortSignal } = {},
): Promise<void> {
  const source = Readable.from(chunks, { objectMode: false });
  const sink = createWriteStream(file);
  const signal = options.signal ? { signal: options.signal } : {};
  if (options.gzip) await pipeline(source, createGzip(), sink, signal);
  else await pipeline(source, sink, signal);
}
