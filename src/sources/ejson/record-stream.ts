import { FerryError } from '../../core/errors.js';
import { openInput } from '../files/open-input.js';
import { readJsonArray } from './json-array-reader.js';
import { readJsonLines } from './json-lines-reader.js';
import { chunksAfter, type RawRecord, skipTo } from './raw-records.js';
import { layoutOf, readHead } from './read-head.js';

/** The file a record stream reads, and the collection its records belong to (for errors). */
export interface RecordFile {
  readonly file: string;
  readonly collection: string;
}

/**
 * The records of a text file of records, one JSON value per line or one top-level JSON array
 * (sniffed from the head), from byte `offset` on (0, or a record's `end`), a chunk's worth at
 * a time, never holding more than one record beyond the current chunk. Shared by the Extended
 * JSON source and the plain JSON source's streamed arrays, so both split, resume and report
 * truncation the same way.
 *
 * @example
 * for await (const records of streamRecords({ file: 'users.json', collection: 'users' }, 0, 64 << 20)) {
 *   for (const record of records) console.log(record.line, record.offset, record.bytes.length);
 * }
 */
export async function* streamRecords(
  target: RecordFile,
  offset: number,
  maxRecordBytes: number,
  signal?: AbortSignal,
): AsyncGenerator<RawRecord[]> {
  const layout = layoutOf(await readHead(target.file, 64 * 1024));
  const { stream } = await openInput(target.file);
  try {
    const where = { file: target.file, collection: target.collection };
    const from = await skipTo(stream, offset, where);
    const chunks = chunksAfter(from, signal);
    const start = { offset, line: from.linesBefore + 1, maxRecordBytes };
    yield* layout === 'array'
      ? readJsonArray(chunks, { ...start, ...where })
      : readJsonLines(checkedLineStart(chunks, from.previous, target, offset), start);
  } finally {
    stream.destroy();
  }
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
  target: RecordFile,
  offset: number,
): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    if (previous !== undefined && previous !== 10 && chunk.length > 0) {
      throw new FerryError(`resume offset ${offset} is not at the start of a line`, {
        code: 'SOURCE_BAD_RESUME_POSITION',
        category: 'input',
        where: { file: target.file, offset, collection: target.collection },
        hint: 'the file changed since the position was taken; start the collection again',
      });
    }
    previous = undefined;
    yield chunk;
  }
}
