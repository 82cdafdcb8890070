import { type RawRecord, RecordBuffer } from './raw-records.js';

const NEWLINE = 10;

/**
 * Split decompressed bytes into JSONL records, one array per input chunk (an async step
 * per record cost more than the split itself). We split bytes, not decoded text, so offsets
 * are byte offsets (what a resume seeks to) and each line can be checked for invalid UTF-8
 * on its own, rejecting one line instead of mangling it with U+FFFD. Blank lines are
 * skipped; a final line without a newline is still a record.
 *
 * @example
 * declare const chunks: AsyncIterable<Buffer>;
 * for await (const records of readJsonLines(chunks, { offset: 0, line: 1, maxRecordBytes: 64 << 20 })) {
 *   for (const record of records) console.log(record.line, record.bytes.toString('utf8'));
 * }
 */
export async function* readJsonLines(
  chunks: AsyncIterable<Buffer>,
  start: { readonly offset: number; readonly line: number; readonly maxRecordBytes: number },
): AsyncGenerator<RawRecord[]> {
  const pending = new RecordBuffer(start.maxRecordBytes);
  let base = start.offset; // offset of the current chunk's first byte
  let lineStart = start.offset;
  let line = start.line;
  for await (const chunk of chunks) {
    const out: RawRecord[] = [];
    let pos = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, pos)) {
      const taken = pending.take(chunk.subarray(pos, nl));
      const end = base + nl + 1;
      if (!isBlank(taken.bytes)) {
        out.push(record(taken, line, lineStart, end));
      }
      line++;
      lineStart = end;
      pos = nl + 1;
    }
    if (pos < chunk.length) pending.append(chunk.subarray(pos));
    base += chunk.length;
    if (out.length > 0) yield out;
  }
  if (pending.length > 0) {
    const taken = pending.take(Buffer.alloc(0));
    if (!isBlank(taken.bytes)) {
      yield [record(taken, line, lineStart, base)];
    }
  }
}

function record(
  taken: { bytes: Buffer; length: number; oversize: boolean },
  line: number,
  offset: number,
  end: number,
): RawRecord {
  const bytes = trimCarriageReturn(taken.bytes);
  return { bytes, length: taken.length, oversize: taken.oversize, line, offset, end };
}

function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 32 && b !== 9 && b !== 13 && b !== 10) return false;
  }
  return true;
}

function trimCarriageReturn(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes;
}
