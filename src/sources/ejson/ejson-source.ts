import { stat } from 'node:fs/promises';
import { FerryError } from '../../core/errors.js';
import { readAllSequential } from '../read-all-sequential.js';
import type { CollectionInfo, ReadOptions, ResumePosition, Source, SourceBatch } from '../types.js';
import { type CollectionFile, fileOf, findCollectionFiles } from './collection-files.js';
import { parseExtendedJson } from './parse-extended-json.js';
import type { RawRecord } from './raw-records.js';
import { batchRecords } from './record-batches.js';
import { streamRecords } from './record-stream.js';
import { DEFAULT_MAX_RECORD_BYTES, type RecordContext, recordToDocument } from './record-to-document.js';
import { recordToFrame } from './record-to-frame.js';

export interface EjsonSourceOptions {
  /**
   * Longest record (line or array element) read whole, in bytes of text; longer ones are
   * rejected as `SOURCE_DOC_TOO_LARGE` without being buffered. Default 64 MiB.
   */
  readonly maxRecordBytes?: number;
}

/**
 * How an export line becomes a document: Extended JSON checked strictly against the
 * specification (a malformed type wrapper is a reject, never part of a value), the legacy
 * `$binary`/`$type` form older mongoexport wrote, and a reject (instead of a silently rounded
 * value or an Invalid Date) for plain integers beyond ±2^53 and for unreadable `$date` strings.
 *
 * @example
 * parseExportLine('{"_id":{"$oid":"59b99db4cfa9a34dcd7885b6"}}');
 */
export function parseExportLine(text: string): unknown {
  return parseExtendedJson(text, {
    rejectUnsafeIntegers: true,
    rejectInvalidDates: true,
  });
}

/**
 * Open `mongoexport` output (or any Extended JSON): a file or a folder of files, each one
 * document per line or one JSON array (`--jsonArray`), canonical or relaxed, optionally
 * gzipped. Each file is one collection named after the file (`users.json` → `users`).
 * Reading streams with bounded memory; resume positions are `{ kind: 'offset', offset, index }`
 * where `offset` counts decompressed bytes and `index` counts records (documents and rejects).
 *
 * @example
 * import { BSON, type Document } from 'bson';
 * declare function load(docs: readonly Document[]): Promise<void>;
 * const source = await openEjsonSource('exports/');
 * for await (const batch of source.read('users', { batchSize: 500 })) {
 *   await load(batch.docs);
 * }
 */
export async function openEjsonSource(location: string, options: EjsonSourceOptions = {}): Promise<Source> {
  const files = await findCollectionFiles(location);
  return new EjsonSource(location, files, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
}

class EjsonSource implements Source {
  readonly kind = 'ejson' as const;
  private readonly counts = new Map<string, { key: string; count: number }>();

  constructor(
    readonly location: string,
    private readonly files: readonly CollectionFile[],
    private readonly maxRecordBytes: number,
  ) {}

  async listCollections(): Promise<readonly CollectionInfo[]> {
    return this.files.map((f) => ({ name: f.name, indexes: [] }));
  }

  async countDocuments(collection: string): Promise<number> {
    const { file } = fileOf(this.files, collection, this.location);
    // Files are immutable in practice, but a re-export between runs must not reuse a count.
    const info = await stat(file);
    const key = `${info.size}:${info.mtimeMs}`;
    const cached = this.counts.get(collection);
    if (cached?.key === key) return cached.count;
    let count = 0;
    for await (const batch of this.read(collection, { batchSize: 10_000 })) count += batch.docs.length;
    this.counts.set(collection, { key, count });
    return count;
  }

  async *read(collection: string, options: ReadOptions = {}): AsyncGenerator<SourceBatch> {
    const target = fileOf(this.files, collection, this.location);
    const start = startPosition(options.after, target);
    const context: RecordContext = { file: target.file, collection, parse: parseExportLine };
    const file = { file: target.file, collection };
    const records = streamRecords(file, start.offset, this.maxRecordBytes, options.signal);
    // A raw read takes the records it can straight to BSON, the others through documents.
    const convert = options.raw
      ? (record: RawRecord) => recordToFrame(record) ?? recordToDocument(record, context)
      : (record: RawRecord) => recordToDocument(record, context);
    yield* batchRecords(records, convert, {
      ...file,
      start,
      options,
    });
  }

  async *readAll(
    options: ReadOptions & { readonly only?: readonly string[] } = {},
  ): AsyncGenerator<SourceBatch> {
    for (const name of options.only ?? []) fileOf(this.files, name, this.location);
    yield* readAllSequential(
      this,
      this.files.map((f) => f.name),
      options,
      this.location,
    );
  }

  async close(): Promise<void> {
    // Every read opens and closes its own stream; nothing is held between reads.
  }
}

function startPosition(
  after: ResumePosition | undefined,
  target: CollectionFile,
): { offset: number; index: number } {
  if (after === undefined) return { offset: 0, index: 0 };
  if (after.kind === 'offset' && Number.isSafeInteger(after.offset) && after.offset >= 0) {
    return { offset: after.offset, index: after.index };
  }
  throw new FerryError('an Extended JSON file resumes from a byte offset, not an _id', {
    code: 'SOURCE_BAD_RESUME_POSITION',
    category: 'usage',
    where: { file: target.file, collection: target.name },
    hint: 'pass the `position` of a batch this source returned',
  });
}
