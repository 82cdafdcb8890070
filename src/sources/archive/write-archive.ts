import { BSON, type Document, Int32, Long } from 'bson';
import { writeChunksToFile } from '../bson/write-bytes.js';
import { formatDumpMetadata } from '../dump/dump-metadata.js';
import type { CollectionToWrite, WrittenCollection } from '../dump/write-dump-directory.js';
import { Crc64 } from './crc64.js';
import { ARCHIVE_MAGIC, ARCHIVE_TERMINATOR } from './scan-archive.js';

export interface WriteArchiveOptions {
  /** Gzip the whole archive, like `mongodump --archive --gzip`. */
  readonly gzip?: boolean;
  /**
   * Documents per block before switching to the next collection (default 100). Real
   * mongodump interleaves collections as they arrive; a small value here makes our own
   * archives exercise the same reader paths.
   */
  readonly blockDocuments?: number;
  readonly signal?: AbortSignal;
}

const TERMINATOR = int32(ARCHIVE_TERMINATOR);

/**
 * Write a mongodump archive: magic, header, one metadata document per collection, then
 * blocks of documents taken round-robin from the collections (so they interleave), each
 * collection closed by an EOF header carrying the CRC that mongorestore checks. Documents
 * are pulled lazily from every collection's iterable; nothing is held beyond one block.
 *
 * @example
 * import type { Document } from 'bson';
 * declare function generateOrders(n: number): Iterable<Document>;
 * declare const users: Document[];
 * await writeArchive('shop.archive.gz', 'shop', [
 *   { name: 'orders', indexes: [{ name: '_id_', key: { _id: 1 } }], docs: generateOrders(1_000_000) },
 *   { name: 'users', docs: users },
 * ], { gzip: true });
 */
export async function writeArchive(
  file: string,
  db: string,
  collections: AsyncIterable<CollectionToWrite> | Iterable<CollectionToWrite>,
  options: WriteArchiveOptions = {},
): Promise<WrittenCollection[]> {
  // The prelude names every collection before any data, so the list (not the documents) is
  // collected first.
  const list: CollectionToWrite[] = [];
  for await (const collection of collections) list.push(collection);
  const tallies = list.map((c) => ({ name: c.name, documents: 0, bytes: 0 }));
  await writeChunksToFile(file, archiveChunks(db, list, tallies, options), {
    ...(options.gzip !== undefined && { gzip: options.gzip }),
    ...(options.signal && { signal: options.signal }),
  });
  return tallies;
}

async function* archiveChunks(
  db: string,
  list: readonly CollectionToWrite[],
  tallies: { documents: number; bytes: number }[],
  options: WriteArchiveOptions,
): AsyncGenerator<Uint8Array> {
  const blockSize = options.blockDocuments ?? 100;
  yield* archivePrelude(db, list);

  const active = list.map((c, i) => ({
    name: c.name,
    iterator: iterate(c.docs),
    crc: new Crc64(),
    tally: tallies[i]!,
  }));
  try {
    yield* interleave(db, active, blockSize, options.signal);
  } finally {
    // An early failure (a bad document, an abort) must still release every source iterator.
    await Promise.all(active.map((a) => a.iterator.return?.()));
  }
}

async function* interleave(
  db: string,
  active: {
    name: string;
    iterator: AsyncIterator<Document> | Iterator<Document>;
    crc: Crc64;
    tally: { documents: number; bytes: number };
  }[],
  blockSize: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  while (active.length > 0) {
    for (let i = 0; i < active.length; ) {
      const current = active[i]!;
      let wrote = 0;
      let done = false;
      while (wrote < blockSize) {
        signal?.throwIfAborted();
        const next = await current.iterator.next();
        if (next.done) {
          done = true;
          break;
        }
        if (wrote === 0) yield archiveHeader(db, current.name, false, Long.ZERO);
        const bytes = BSON.serialize(next.value);
        current.crc.update(bytes);
        current.tally.documents += 1;
        current.tally.bytes += bytes.length;
        wrote += 1;
        yield bytes;
      }
      if (wrote > 0) yield TERMINATOR;
      if (done) {
        yield archiveHeader(db, current.name, true, current.crc.digest());
        yield TERMINATOR;
        active.splice(i, 1);
      } else {
        i += 1;
      }
    }
  }
}

/**
 * The archive's opening: magic, header, one metadata document per collection (which names
 * every collection before any data, as mongorestore expects), and the terminator.
 *
 * @example
 * import type { Writable } from 'node:stream';
 * declare const out: Writable;
 * for (const bytes of archivePrelude('shop', [{ name: 'orders', indexes: [] }])) out.write(bytes);
 */
export function* archivePrelude(
  db: string,
  list: readonly Pick<CollectionToWrite, 'name' | 'indexes'>[],
): Generator<Uint8Array> {
  yield int32(ARCHIVE_MAGIC | 0);
  yield BSON.serialize({
    concurrent_collections: new Int32(Math.max(1, list.length)),
    version: '0.1',
    server_version: '',
    tool_version: 'ferry',
  });
  for (const c of list) {
    const metadata = formatDumpMetadata({ collectionName: c.name, indexes: c.indexes ?? [] });
    yield BSON.serialize({ db, collection: c.name, metadata, size: new Int32(0), type: 'collection' });
  }
  yield TERMINATOR;
}

/**
 * The namespace header that opens a block of one collection's documents (`eof` false), or
 * that closes the collection with the CRC of all its document bytes (`eof` true). Every
 * header, and every block's documents, is followed by {@link ARCHIVE_BLOCK_END}.
 *
 * @example
 * import type { Writable } from 'node:stream';
 * declare const out: Writable;
 * declare const crc: Crc64;
 * out.write(archiveHeader('shop', 'orders', true, crc.digest()));
 * out.write(ARCHIVE_BLOCK_END);
 */
export function archiveHeader(db: string, collection: string, eof: boolean, crc: Long): Uint8Array {
  return BSON.serialize({ db, collection, EOF: eof, CRC: crc });
}

/** The -1 that ends the prelude, each block of documents, and each EOF header. */
export const ARCHIVE_BLOCK_END: Uint8Array = TERMINATOR;

function iterate(
  docs: AsyncIterable<Document> | Iterable<Document>,
): AsyncIterator<Document> | Iterator<Document> {
  return Symbol.asyncIterator in docs ? docs[Symbol.asyncIterator]() : docs[Symbol.iterator]();
}

function int32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value, true);
  return bytes;
}
