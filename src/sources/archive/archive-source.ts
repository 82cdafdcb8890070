import { FerryError } from '../../core/errors.js';
import { BatchBuilder, checkReadOptions } from '../bson/batch-builder.js';
import { type DecodeContext, frameEntry } from '../bson/decode-frame.js';
import { collectionNames, isSystemCollection } from '../dump/collection-names.js';
import { type FileReadAllOptions, planReadAll, requireCollection } from '../dump/select-collections.js';
import type { CollectionInfo, ReadOptions, ResumePosition, Source, SourceBatch } from '../types.js';
import { type ArchiveNamespace, type ArchivePrelude, scanArchive } from './scan-archive.js';

interface ArchiveCollection extends ArchiveNamespace {
  /** The name `read()` takes (see `collectionNames`). */
  readonly name: string;
}

/** Per-collection state of one pass over the archive. */
interface Reading {
  readonly info: ArchiveCollection;
  readonly context: DecodeContext;
  readonly after: number;
  readonly builder: BatchBuilder;
  rejects: number;
}

/**
 * Open a `mongodump --archive` file (gzipped or not) as a `Source`. Only the prelude is read
 * now; documents are read by `read`/`readAll`. Positions are byte offsets in the
 * (decompressed) archive, per collection.
 *
 * @example
 * const source = await openArchiveSource('sample_supplies.archive.gz');
 * await source.countDocuments('sales'); // 5000
 */
export async function openArchiveSource(file: string): Promise<ArchiveSource> {
  const scan = scanArchive(file);
  let prelude: ArchivePrelude | undefined;
  try {
    const first = await scan.next();
    if (!first.done && first.value.kind === 'prelude') prelude = first.value.prelude;
  } finally {
    await scan.return(undefined);
  }
  if (!prelude) throw new FerryError(`${file} has no prelude`, { code: 'INTERNAL', category: 'internal' });
  // Views hold no documents in an archive and system collections are not application data.
  const kept = prelude.namespaces
    .filter((n) => n.type !== 'view' && !isSystemCollection(n.collection))
    .sort((a, b) => a.collection.localeCompare(b.collection) || a.db.localeCompare(b.db));
  const names = collectionNames(kept.map((n) => ({ database: n.db, collection: n.collection })));
  return new ArchiveSource(
    file,
    prelude,
    kept.map((n, i) => ({ ...n, name: names[i]! })),
  );
}

export class ArchiveSource implements Source {
  readonly kind = 'archive' as const;
  readonly location: string;
  /** The archive's header: mongodump and server versions. */
  readonly header: ArchivePrelude['header'];
  readonly #collections: readonly ArchiveCollection[];
  #counts: Map<string, number> | undefined;
  #closed = false;

  /** Use `openArchiveSource`, which reads the prelude. */
  constructor(file: string, prelude: ArchivePrelude, collections: readonly ArchiveCollection[]) {
    this.location = file;
    this.header = prelude.header;
    this.#collections = collections;
  }

  async listCollections(): Promise<readonly CollectionInfo[]> {
    this.#checkOpen();
    return this.#collections.map((c) => ({ name: c.name, database: c.db, indexes: c.metadata.indexes }));
  }

  /** One scan counts every collection (framing only, no decoding); later calls are free. */
  async countDocuments(collection: string): Promise<number> {
    this.#checkOpen();
    const found = requireCollection(this.#collections, collection, this.location);
    if (!this.#counts) {
      const counts = new Map<string, number>();
      for await (const event of scanArchive(this.location)) {
        if (event.kind === 'frame') counts.set(event.namespace, (counts.get(event.namespace) ?? 0) + 1);
      }
      this.#counts = counts;
    }
    return this.#counts.get(found.namespace) ?? 0;
  }

  /** Scans the archive, decoding only this collection's documents; stops at its EOF block. */
  async *read(collection: string, options?: ReadOptions): AsyncGenerator<SourceBatch> {
    this.#checkOpen();
    const found = requireCollection(this.#collections, collection, this.location);
    yield* this.#pass([{ item: found, after: options?.after }], options);
  }

  /** One pass over the archive however its collections' blocks interleave. */
  async *readAll(options?: FileReadAllOptions): AsyncGenerator<SourceBatch> {
    this.#checkOpen();
    yield* this.#pass(planReadAll(this.#collections, options, this.location), options);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async *#pass(
    plan: readonly { item: ArchiveCollection; after: ResumePosition | undefined }[],
    options: ReadOptions | undefined,
  ): AsyncGenerator<SourceBatch> {
    const readings = new Map<string, Reading>();
    for (const { item, after } of plan) {
      const { batchSize, after: position } = checkReadOptions(
        { ...options, ...(after && { after }) },
        item.name,
      );
      const context = { file: this.location, collection: item.name, namespace: item.namespace };
      const raw = options?.raw
        ? {
            context,
            noteRejects: (count: number) => {
              reading.rejects += count;
            },
          }
        : undefined;
      const reading: Reading = {
        info: item,
        context,
        after: position?.offset ?? 0,
        builder: new BatchBuilder(item.name, batchSize, position?.index ?? 0, raw),
        rejects: 0,
      };
      readings.set(item.namespace, reading);
    }
    let open = readings.size;
    if (open === 0) return;
    const scanOptions = {
      namespaces: new Set(readings.keys()),
      ...(options?.signal && { signal: options.signal }),
    };
    for await (const event of scanArchive(this.location, scanOptions)) {
      if (event.kind === 'prelude') continue;
      const reading = readings.get(event.namespace);
      if (!reading) continue;
      if (event.kind === 'frame') {
        // Before the resume point: already delivered by an earlier run, so not decoded again.
        if (event.frame.offset < reading.after) continue;
        const entry = frameEntry(event.frame, reading.context, options?.raw);
        if (entry.kind === 'reject') reading.rejects += 1;
        reading.builder.add(entry);
        if (reading.builder.full) yield reading.builder.flush();
        continue;
      }
      // The last batch goes out first: in raw mode its consumer decodes it, and notes its
      // rejects, before asking for more.
      if (!reading.builder.empty) yield reading.builder.flush();
      // A damaged document changes the CRC too; when it has already been reported as a
      // reject the mismatch says nothing new. A mismatch with no reject means bytes changed
      // in a way that still decodes, which no per-document check can catch.
      if (!event.checksumOk && reading.rejects === 0)
        throw badChecksum(this.location, event.offset, event.namespace);
      open -= 1;
      // Every wanted collection is complete; the rest of the archive is someone else's.
      if (open === 0) return;
    }
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

function badChecksum(file: string, offset: number, namespace: string): FerryError {
  return new FerryError(`the documents of ${namespace} do not match the archive's checksum`, {
    code: 'SOURCE_BAD_CHECKSUM',
    category: 'input',
    where: { file, offset, collection: namespace },
    hint: 'the archive was altered or damaged after mongodump wrote it; re-create it',
  });
}
