import { isUtf8 } from 'node:buffer';
import { FerryError } from '../../core/errors.js';
import { collectionNameOf } from '../ejson/collection-files.js';
import { firstInvalidUtf8 } from '../ejson/record-to-document.js';
import { openInput } from '../files/open-input.js';
import { protectLargeIntegers } from './exact-integers.js';
import { formatJsonPointer, parseJsonPointer, resolveJsonPointer } from './json-pointer.js';

/** Default cap on one plain JSON file; V8 cannot hold a string much over 512 MiB anyway. */
export const DEFAULT_MAX_JSON_FILE_BYTES = 512 * 1024 * 1024;

/** Where a collection's records sit in a plain JSON file. */
export interface PlainCollection {
  readonly name: string;
  readonly file: string;
  /** RFC 6901 pointer to the array or map of records. */
  readonly pointer: string;
  /** The file is one top-level array, read record by record instead of parsed whole. */
  readonly streamed?: boolean;
}

/**
 * Read and parse a whole plain JSON file (gzip sniffed). Plain JSON files are parsed whole:
 * their collections can sit anywhere inside one object, which no streaming split can find
 * cheaply, and apps that kept data in JSON files loaded it whole too. Bigger data belongs
 * in JSONL, which the Extended JSON source streams (plain JSON lines are valid relaxed EJSON).
 *
 * Errors: `SOURCE_JSON_TOO_LARGE`, `SOURCE_BAD_UTF8`, `SOURCE_BAD_JSON` (with line and byte offset).
 *
 * @example
 * const root = await loadPlainJson('db.json', 512 << 20);
 */
export async function loadPlainJson(file: string, maxBytes: number): Promise<unknown> {
  const { stream } = await openInput(file);
  const pieces: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) {
        throw new FerryError(`plain JSON file is over ${maxBytes} bytes`, {
          code: 'SOURCE_JSON_TOO_LARGE',
          category: 'input',
          where: { file },
          hint: "convert it to one record per line (e.g. jq -c '.[]' in.json > in.jsonl) and read that",
        });
      }
      pieces.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  const bytes = Buffer.concat(pieces, length);
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8(bytes);
    throw new FerryError('invalid UTF-8 in plain JSON file', {
      code: 'SOURCE_BAD_UTF8',
      category: 'input',
      where: { file, offset, line: lineAt(bytes, offset) },
      hint: 'the file is not UTF-8 text; convert it (e.g. iconv -t UTF-8) and try again',
    });
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(protectLargeIntegers(text));
  } catch (rewritten) {
    // Report the error at its place in the file as written, not in the rewritten text.
    let cause = rewritten;
    try {
      JSON.parse(text);
    } catch (original) {
      cause = original;
    }
    const message = (cause as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    const at = position === undefined ? undefined : Buffer.byteLength(text.slice(0, Number(position)));
    throw new FerryError(`not valid JSON: ${message}`, {
      code: 'SOURCE_BAD_JSON',
      category: 'input',
      cause,
      where: { file, ...(at === undefined ? {} : { offset: at, line: lineAt(bytes, at) }) },
      hint: 'fix the syntax at that place; the file is read whole, so nothing was loaded from it',
    });
  }
}

function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let at = bytes.indexOf(10); at !== -1 && at < offset; at = bytes.indexOf(10, at + 1)) line++;
  return line;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A map of records: an object whose values are all objects (`{"u1": {…}, "u2": {…}}`). */
function isRecordMap(v: unknown): boolean {
  return isObject(v) && Object.values(v).every(isObject);
}

/**
 * Which collections a parsed plain JSON file holds.
 *
 * - With a `pointer`: the array or map of records it names, one collection named after the
 *   pointer's last token (after the file, for `""`).
 * - A top-level array: one collection named after the file.
 * - An object whose every value is an array or a map of records
 *   (`{"users": {"u1": {…}}, "orders": […]}`): one collection per key.
 * - Otherwise an object whose every value is an object: a map of records, one collection
 *   named after the file.
 *
 * Anything else is `SOURCE_JSON_NO_RECORDS` rather than a guess: a skipped key would be
 * silently dropped data.
 *
 * @example
 * plainCollections({ users: [], orders: {} }, 'db.json'); // users at /users, orders at /orders
 */
export function plainCollections(root: unknown, file: string, pointer?: string): readonly PlainCollection[] {
  const fileName = collectionNameOf(file);
  if (pointer !== undefined) {
    const tokens = parseJsonPointer(pointer);
    const target = resolveJsonPointer(root, tokens);
    if (!Array.isArray(target) && !isObject(target)) {
      throw new FerryError(
        `JSON pointer ${JSON.stringify(pointer)} does not name an array or object of records`,
        {
          code: 'SOURCE_JSON_POINTER_NOT_FOUND',
          category: 'input',
          where: { file, path: pointer },
          hint: 'point at the array (or map) of records, e.g. "/data/users"',
        },
      );
    }
    return [{ name: tokens.at(-1) ?? fileName, file, pointer: formatJsonPointer(tokens) }];
  }
  if (Array.isArray(root)) return [{ name: fileName, file, pointer: '' }];
  if (isObject(root)) {
    const entries = Object.entries(root);
    if (entries.length > 0 && entries.every(([, v]) => Array.isArray(v) || isRecordMap(v))) {
      return entries.map(([key]) => ({ name: key, file, pointer: formatJsonPointer([key]) }));
    }
    if (isRecordMap(root)) return [{ name: fileName, file, pointer: '' }];
  }
  throw new FerryError('cannot tell where the records are in this JSON file', {
    code: 'SOURCE_JSON_NO_RECORDS',
    category: 'input',
    where: { file },
    hint:
      'expected an array of records, a map of records, or an object of such arrays and maps; ' +
      'name the records with a JSON pointer (e.g. --pointer /data/users)',
  });
}
