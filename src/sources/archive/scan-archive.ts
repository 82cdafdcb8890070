import { BSON, type Document, Long } from 'bson';
import { FerryError } from '../../core/errors.js';
import { ByteReader } from '../bson/byte-reader.js';
import { type BsonFrame, bufferedFrameLength, readFrame, skipFrame, truncated } from '../bson/read-frame.js';
import { type DumpMetadata, parseDumpMetadata } from '../dump/dump-metadata.js';
import { openInput } from '../files/open-input.js';
import { Crc64 } from './crc64.js';

/** The little-endian int32 every mongodump archive starts with. */
export const ARCHIVE_MAGIC = 0x8199e26d;
/** Ends the prelude and every block. */
export const ARCHIVE_TERMINATOR = -1;

/** A collection announced in the archive's prelude. */
export interface ArchiveNamespace {
  readonly db: string;
  readonly collection: string;
  /** `db.collection`: how blocks name it. */
  readonly namespace: string;
  readonly type: string;
  readonly metadata: DumpMetadata;
}

export interface ArchivePrelude {
  /** `{ concurrent_collections, version, server_version, tool_version }`. */
  readonly header: Document;
  readonly namespaces: readonly ArchiveNamespace[];
}

/** What a scan meets, in file order. */
export type ArchiveEvent =
  | { readonly kind: 'prelude'; readonly prelude: ArchivePrelude }
  | { readonly kind: 'frame'; readonly namespace: string; readonly frame: BsonFrame }
  | {
      readonly kind: 'end';
      readonly namespace: string;
      /** Offset of the EOF header. */
      readonly offset: number;
      /** The CRC in the EOF header matches the documents' bytes. */
      readonly checksumOk: boolean;
    };

export function namespaceOf(db: string, collection: string): string {
  return db === '' ? collection : `${db}.${collection}`;
}

/**
 * Walk a mongodump archive (gzipped or not) once, yielding its prelude, then every document
 * frame tagged with its namespace, then an `end` per collection with the CRC verdict. Only
 * framing is checked here; decoding documents is the caller's choice (counting does not).
 *
 * The archive must end cleanly after every announced collection's EOF block: any earlier
 * end is `SOURCE_TRUNCATED`, so a cut archive never reads as smaller collections.
 *
 * With `namespaces`, only those collections' frames and ends are yielded: the other
 * collections' documents are still walked with the same framing checks (an archive's blocks
 * have no length, so there is no other way past them), but neither copied nor checksummed.
 * Reading one collection out of an interleaved archive then costs a framing walk over the
 * others instead of a copy and a CRC of every byte.
 *
 * @example
 * for await (const event of scanArchive('backup.archive.gz')) {
 *   if (event.kind === 'frame') console.log(event.namespace, event.frame.offset);
 * }
 */
export async function* scanArchive(
  file: string,
  options: { readonly signal?: AbortSignal; readonly namespaces?: ReadonlySet<string> } = {},
): AsyncGenerator<ArchiveEvent> {
  const wanted = options.namespaces;
  const { stream } = await openInput(file);
  const reader = new ByteReader(stream, { file });
  try {
    const prelude = await readPrelude(reader, file);
    yield { kind: 'prelude', prelude };
    const pending = new Set(prelude.namespaces.map((n) => n.namespace));
    const finished = new Set<string>();
    const sums = new Map<string, Crc64>();
    for (;;) {
      options.signal?.throwIfAborted();
      const blockAt = reader.offset;
      reader.collection = undefined;
      const available = await reader.ensure(4);
      if (available === 0) break;
      const header = await readControlDoc(reader, file, 'block header');
      const namespace = namespaceOf(String(header.db), String(header.collection));
      if (finished.has(namespace))
        throw corrupt(file, blockAt, namespace, 'a block follows the collection’s end');
      const context = { file, collection: namespace };
      reader.collection = namespace;
      const skipped = wanted !== undefined && !wanted.has(namespace);
      if (header.EOF === true) {
        await expectTerminator(reader, context);
        finished.add(namespace);
        pending.delete(namespace);
        if (skipped) continue;
        const sum = sums.get(namespace) ?? new Crc64();
        // An archive writer that leaves the CRC out gives us nothing to check against.
        const checksumOk = Long.isLong(header.CRC) ? sum.digest().equals(header.CRC) : true;
        yield { kind: 'end', namespace, offset: blockAt, checksumOk };
        continue;
      }
      if (skipped) {
        await skipBlock(reader, context);
        continue;
      }
      const sum = sums.get(namespace) ?? new Crc64();
      sums.set(namespace, sum);
      for (;;) {
        if (reader.available < 4 && (await reader.ensure(4)) < 4) {
          throw truncated(context, reader.offset, 'the archive ends inside a block of documents');
        }
        if (reader.peekInt32() === ARCHIVE_TERMINATOR) {
          reader.drop(4);
          break;
        }
        const frame = (await readFrame(reader, context))!;
        sum.update(frame.bytes);
        yield { kind: 'frame', namespace, frame };
      }
    }
    const unfinished = [...pending][0];
    if (unfinished !== undefined) {
      throw truncated(
        { file, collection: unfinished },
        reader.offset,
        `the archive ends before collection ${unfinished} is complete`,
      );
    }
  } finally {
    await reader.close();
    stream.destroy();
  }
}

/** Walk past one block of documents nobody asked for, up to and including its terminator. */
async function skipBlock(reader: ByteReader, context: { file: string; collection: string }): Promise<void> {
  for (;;) {
    if (reader.available < 4 && (await reader.ensure(4)) < 4) {
      throw truncated(context, reader.offset, 'the archive ends inside a block of documents');
    }
    if (reader.peekInt32() === ARCHIVE_TERMINATOR) {
      reader.drop(4);
      return;
    }
    // Most frames are buffered whole: step over them without an await each.
    const length = bufferedFrameLength(reader);
    if (length !== undefined) reader.drop(length);
    else await skipFrame(reader, context);
  }
}

async function readPrelude(reader: ByteReader, file: string): Promise<ArchivePrelude> {
  if ((await reader.ensure(4)) < 4 || reader.peekInt32() >>> 0 !== ARCHIVE_MAGIC) {
    throw new FerryError(`${file} is not a mongodump archive (wrong magic number)`, {
      code: 'SOURCE_NOT_AN_ARCHIVE',
      category: 'input',
      where: { file, offset: 0 },
      hint: 'archives are written by mongodump --archive; a dump directory is read from its folder',
    });
  }
  await reader.skip(4);
  const header = await readControlDoc(reader, file, 'archive header');
  const namespaces: ArchiveNamespace[] = [];
  for (;;) {
    if ((await reader.ensure(4)) < 4)
      throw truncated({ file }, reader.offset, 'the archive ends inside its prelude');
    if (reader.peekInt32() === ARCHIVE_TERMINATOR) {
      await reader.skip(4);
      return { header, namespaces };
    }
    const offset = reader.offset;
    const doc = await readControlDoc(reader, file, 'collection metadata');
    const db = String(doc.db ?? '');
    const collection = String(doc.collection ?? '');
    const namespace = namespaceOf(db, collection);
    const text = typeof doc.metadata === 'string' && doc.metadata !== '' ? doc.metadata : '{}';
    const metadata = parseDumpMetadata(text, { file, offset, collection: namespace });
    const type = typeof doc.type === 'string' ? doc.type : (metadata.type ?? 'collection');
    namespaces.push({ db, collection, namespace, type, metadata });
  }
}

/** The prelude and block headers must decode: without them nothing after can be placed. */
async function readControlDoc(reader: ByteReader, file: string, what: string): Promise<Document> {
  const frame = await readFrame(reader, { file });
  if (!frame) throw truncated({ file }, reader.offset, `the archive ends where its ${what} should be`);
  try {
    return BSON.deserialize(frame.bytes, { promoteValues: false });
  } catch (cause) {
    throw corrupt(file, frame.offset, undefined, `its ${what} does not decode (${(cause as Error).message})`);
  }
}

async function expectTerminator(
  reader: ByteReader,
  context: { file: string; collection: string },
): Promise<void> {
  if ((await reader.ensure(4)) < 4)
    throw truncated(context, reader.offset, 'the archive ends after an EOF header');
  if (reader.peekInt32() !== ARCHIVE_TERMINATOR) {
    throw corrupt(
      context.file,
      reader.offset,
      context.collection,
      'an EOF header is not followed by a terminator',
    );
  }
  await reader.skip(4);
}

function corrupt(file: string, offset: number, collection: string | undefined, detail: string): FerryError {
  return new FerryError(`${file} is a damaged archive: ${detail}`, {
    code: 'SOURCE_CORRUPT_ARCHIVE',
    category: 'input',
    where: { file, offset, ...(collection !== undefined && { collection }) },
    hint: 're-create the archive with mongodump --archive',
  });
}
