import { FerryError } from '../../core/errors.js';
import { type RawRecord, RecordBuffer } from './raw-records.js';

/**
 * The boundary scanner's states. It only tracks what decides where an element ends:
 * strings (a `]` or `,` inside one means nothing), escapes (a `\"` does not close the
 * string) and bracket depth. Each element is then parsed on its own, so a 1 GB array
 * never has to be in memory at once.
 */
enum State {
  /** Before the opening `[`. */
  Start,
  /** After `[` or `,`: an element (or, right after `[`, the closing `]`). */
  ExpectElement,
  /** Inside an object or array element, outside strings. */
  InContainer,
  /** Inside a string; `inContainer` says where the string sits. */
  InString,
  /** Inside a bare scalar element (number, true, false, null). */
  InScalar,
  /** After an element: `,` or `]`. */
  AfterElement,
  /** After the closing `]`: only whitespace may follow. */
  Done,
}

const QUOTE = 34;
const BACKSLASH = 92;
const NEWLINE = 10;

function isSpace(b: number): boolean {
  return b === 32 || b === 10 || b === 13 || b === 9;
}

export interface ArrayReaderStart {
  readonly offset: number;
  readonly line: number;
  readonly maxRecordBytes: number;
  readonly file: string;
  readonly collection: string;
}

/**
 * Yield the top-level elements of a JSON array (`mongoexport --jsonArray`) as raw bytes,
 * one array of records per input chunk (an async step per record cost more than the scan).
 * Starting at offset 0 expects the `[`; starting elsewhere means "right after an element"
 * (a resume position this reader returned as `end`). Ending anywhere but after the closing
 * `]` throws `SOURCE_TRUNCATED`: a cut-short export must fail, never look like a shorter
 * collection.
 *
 * @example
 * declare const chunks: AsyncIterable<Buffer>;
 * const start = { offset: 0, line: 1, maxRecordBytes: 16 << 20, file: 'users.json', collection: 'users' };
 * for await (const elements of readJsonArray(chunks, start)) {
 *   for (const element of elements) JSON.parse(element.bytes.toString('utf8'));
 * }
 */
export async function* readJsonArray(
  chunks: AsyncIterable<Buffer>,
  start: ArrayReaderStart,
): AsyncGenerator<RawRecord[]> {
  const pending = new RecordBuffer(start.maxRecordBytes);
  let state = start.offset === 0 ? State.Start : State.AfterElement;
  let depth = 0;
  let escaped = false;
  let stringInContainer = false;
  let base = start.offset;
  let line = start.line;
  let elementOffset = 0;
  let elementLine = 0;
  let elementStartInChunk = -1;

  const fail = (
    what: string,
    offset: number,
    code: 'SOURCE_BAD_JSON_ARRAY' | 'SOURCE_TRUNCATED' = 'SOURCE_BAD_JSON_ARRAY',
  ): FerryError =>
    new FerryError(`malformed JSON array: ${what}`, {
      code,
      category: 'input',
      where: { file: start.file, line, offset, collection: start.collection },
      hint:
        code === 'SOURCE_TRUNCATED'
          ? 'the file was cut short; export it again'
          : 'fix the file or export it again as one document per line',
    });

  for await (const chunk of chunks) {
    const n = chunk.length;
    const out: RawRecord[] = [];
    const begin = (i: number): void => {
      elementOffset = base + i;
      elementLine = line;
      elementStartInChunk = i;
    };
    const finish = (endInChunk: number): void => {
      const taken = pending.take(chunk.subarray(Math.max(elementStartInChunk, 0), endInChunk));
      elementStartInChunk = -1;
      out.push({
        bytes: taken.bytes,
        length: taken.length,
        oversize: taken.oversize,
        line: elementLine,
        offset: elementOffset,
        end: base + endInChunk,
      });
    };
    // Strings hold most of the bytes; jump through them with indexOf (native, vectorised)
    // instead of a byte-at-a-time loop. Next positions are cached per chunk, so each search
    // runs once over the chunk, not once per string.
    let nextQuote = -1;
    let nextBackslash = -1;
    let nextNewline = -1;
    const after = (byte: number, from: number): number => {
      const at = chunk.indexOf(byte, from);
      return at === -1 ? n : at;
    };
    for (let i = 0; i < n; i++) {
      if (state === State.InString) {
        if (escaped) {
          escaped = false;
          continue;
        }
        if (nextQuote < i) nextQuote = after(QUOTE, i);
        if (nextBackslash < i) nextBackslash = after(BACKSLASH, i);
        if (nextNewline < i) nextNewline = after(NEWLINE, i);
        const stop = Math.min(nextQuote, nextBackslash);
        while (nextNewline < stop) {
          line++; // only in invalid JSON (a raw newline in a string), but keep lines right
          nextNewline = after(NEWLINE, nextNewline + 1);
        }
        i = stop;
        if (stop === n) break;
        if (chunk[i] === BACKSLASH) escaped = true;
        else if (stringInContainer) state = State.InContainer;
        else {
          finish(i + 1);
          state = State.AfterElement;
        }
        continue;
      }
      const b = chunk[i] as number;
      if (b === NEWLINE) line++;
      switch (state) {
        case State.InContainer:
          if (b === QUOTE) {
            state = State.InString;
            stringInContainer = true;
          } else if (b === 123 || b === 91) depth++;
          else if (b === 125 || b === 93) {
            depth--;
            if (depth === 0) {
              finish(i + 1);
              state = State.AfterElement;
            }
          }
          break;
        case State.InScalar:
          if (b === 44 || b === 93 || isSpace(b)) {
            finish(i);
            state = State.AfterElement;
            i--; // the delimiter belongs to the array, not the element
            if (b === NEWLINE) line--;
          }
          break;
        case State.AfterElement:
          if (b === 44) state = State.ExpectElement;
          else if (b === 93) state = State.Done;
          else if (!isSpace(b)) throw fail(`expected "," or "]" after an element`, base + i);
          break;
        case State.ExpectElement:
          if (isSpace(b)) break;
          if (b === 93) {
            // `[]` is an empty export; `[1,]` is lenient about the trailing comma.
            state = State.Done;
            break;
          }
          begin(i);
          if (b === 123 || b === 91) {
            depth = 1;
            state = State.InContainer;
          } else if (b === QUOTE) {
            state = State.InString;
            stringInContainer = false;
          } else state = State.InScalar;
          break;
        case State.Start:
          if (b === 0xef && base + i === 0) break; // UTF-8 byte order mark
          if ((b === 0xbb || b === 0xbf) && base + i < 3) break;
          if (b === 91) state = State.ExpectElement;
          else if (!isSpace(b)) throw fail('the file does not start with "["', base + i);
          break;
        case State.Done:
          if (!isSpace(b)) throw fail('text after the closing "]"', base + i);
          break;
      }
    }
    if (elementStartInChunk !== -1) {
      pending.append(chunk.subarray(elementStartInChunk));
      elementStartInChunk = 0;
    }
    base += n;
    if (out.length > 0) yield out;
  }
  if (state === State.InScalar) {
    // A bare scalar right at the end of the input is still not a closed array.
    throw fail('the input ends inside an element', base, 'SOURCE_TRUNCATED');
  }
  if (state !== State.Done) {
    const where = state === State.Start ? 'the input is empty' : 'the input ends before the closing "]"';
    if (state === State.Start && base === start.offset) return;
    throw fail(where, base, 'SOURCE_TRUNCATED');
  }
}
