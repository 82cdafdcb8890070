import { stat } from 'node:fs/promises';
import { BSON, type Document } from 'bson';
import { FerryError } from '../../core/errors.js';
import type { BsonFrame } from '../bson/read-frame.js';
import { openInput } from '../files/open-input.js';
import { readAllSequential } from '../read-all-sequential.js';
import type {
  CollectionInfo,
  ReadOptions,
  ResumePosition,
  Source,
  SourceBatch,
  SourceReject,
} from '../types.js';
import { type CollectionFile, fileOf, findCollectionFiles } from './collection-files.js';
import { readJsonArray } from './json-array-reader.js';
import { readJsonLines } from './json-lines-reader.js';
import { parseExtendedJson } from './parse-extended-json.js';
import { chunksAfter, type RawRecord, skipTo } from './raw-records.js';
import { layoutOf, readHead } from './read-head.js';
import { DEFAULT_MAX_RECORD_BYTES, type RecordContext, recordToDocument } from './record-to-document.js';

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
    const batchSize = Math.max(1, options.batchSize ?? 1000);
    const after = startPosition(options.after, target);
    const context: RecordContext = { file: target.file, collection, parse: parseExportLine };

    const raw = options.raw
      ? { context: { file: target.file, collection }, noteRejects: () => {} }
      : undefined;
    let docs: Document[] = [];
    let rejects: SourceReject[] = [];
    let frames: BsonFrame[] = [];
    let index = after.index;
    let offset = after.offset;
    let batchStart = offset;
    const take = () => {
      const batch = batchOf(collection, docs, rejects, offset, index, offset - batchStart);
      docs = [];
      rejects = [];
      batchStart = offset;
      if (raw === undefined || frames.length === 0) return batch;
      const withFrames = { ...batch, raw: { frames, ...raw } };
      frames = [];
      return withFrames;
    };
    for await (const records of this.records(target, after.offset, options.signal)) {
      for (const record of records) {
        const result = recordToDocument(record, context);
        if ('reject' in result) rejects.push(result.reject);
        else {
          const frame = raw && asFrame(result.doc, record);
          if (frame) frames.push(frame);
          else docs.push(result.doc);
        }
        index++;
        offset = record.end;
        if (docs.length + rejects.length + frames.length >= batchSize) {
          yield take();
          options.signal?.throwIfAborted();
        }
      }
    }
    if (docs.length + rejects.length + frames.length > 0) yield take();
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

  private async *records(
    target: CollectionFile,
    offset: number,
    signal?: AbortSignal,
  ): AsyncGenerator<RawRecord[]> {
    const layout = layoutOf(await readHead(target.file, 64 * 1024));
    const { stream } = await openInput(target.file);
    try {
      const from = await skipTo(stream, offset, { file: target.file, collection: target.name });
      const chunks = chunksAfter(from, signal);
      const start = { offset, line: from.linesBefore + 1, maxRecordBytes: this.maxRecordBytes };
      yield* layout === 'array'
        ? readJsonArray(chunks, { ...start, file: target.file, collection: target.name })
        : readJsonLines(checkedLineStart(chunks, from.previous, target, offset), start);
    } finally {
      stream.destroy();
    }
  }
}

/**
 * A parsed document as BSON, so that in raw mode (the backfill) it takes the same encoder as
 * a dump's documents, on the encoding threads, instead of the row-by-row path on the main
 * thread: serializing costs about a third of that path. A record that may hold `$undefined`
 * (the word, or any `\u` escape that could spell it) stays decoded, since BSON.serialize
 * would write its undefined as null; so does one that does not serialize (too large).
 */
function asFrame(doc: Document, record: RawRecord): BsonFrame | undefined {
  if (record.oversize || record.bytes.includes(UNDEFINED_WORD) || record.bytes.includes(UNICODE_ESCAPE))
    return undefined;
  try {
    const bytes = BSON.serialize(doc);
    return { offset: record.offset, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  } catch {
    return undefined;
  }
}

const UNDEFINED_WORD = Buffer.from('undefined');
const UNICODE_ESCAPE = Buffer.from('\\u');

function batchOf(
  collection: string,
  docs: Document[],
  rejects: SourceReject[],
  offset: number,
  index: number,
  bytes: number,
): SourceBatch {
  const position: ResumePosition = { kind: 'offset', offset, index };
  return { collection, docs, rejects, position, bytes };
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

/**
 * A line-layout resume must land right after a newline (or at the very end, after a last
 * line without one); anything else means the position belongs to another file or the file
 * changed, and reading on would split a document. Array positions are checked by the
 * array reader's grammar (it expects "," or "]" next).
 */
async function* checkedLineStart(
  chunks: AsyncIterable<Buffer>,
  previous: number | undefined,
  target: CollectionFile,
  offset: number,
): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    if (previous !== undefined && previous !== 10 && chunk.length > 0) {
      throw new FerryError(`resume offset ${offset} is not at the start of a line`, {
        code: 'SOURCE_BAD_RESUME_POSITION',
        category: 'input',
        where: { file: target.file, offset, collection: target.name },
        hint: 'the file changed since the position was taken; start the collection again',
      });
    }
    previous = undefined;
    yield chunk;
  }
}
