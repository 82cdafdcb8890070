import { FerryError } from '../../core/errors.js';
import { findCollectionFiles } from '../ejson/collection-files.js';
import { readHead } from '../ejson/read-head.js';

/** `ejson`: mongoexport / Extended JSON (read by `openEjsonSource`); `json`: plain JSON files (`openJsonSource`). */
export type JsonFlavour = 'ejson' | 'json';

/** The verdict and the clue that decided it, so the CLI can say why it chose a reader. */
export interface FlavourVerdict {
  readonly flavour: JsonFlavour;
  readonly reason: string;
}

const HEAD_BYTES = 64 * 1024;
const EJSON_WRAPPER =
  /"\$(oid|date|numberInt|numberLong|numberDouble|numberDecimal|binary|uuid|timestamp|regularExpression|regex|minKey|maxKey|symbol|code)"\s*:/;

/**
 * Tell a mongoexport / Extended JSON file from a plain JSON file by its first 64 KiB, so
 * the CLI can open either from a path. A folder gets the flavour of its files (all must
 * agree). The rules, first match wins:
 *
 * 1. `.jsonl` / `.ndjson` (optionally `.gz`) → `ejson`: one document per line is an export
 *    (plain JSON lines are valid relaxed Extended JSON, and that reader streams).
 * 2. An Extended JSON type wrapper such as `"$oid":` or `"$date":` → `ejson`.
 * 3. Two or more lines that are each a complete JSON object → `ejson` (JSONL).
 * 4. A single-line object with a top-level `_id` → `ejson` (a one-document export).
 * 5. An array whose first element starts with `_id` → `ejson` (how `--jsonArray` writes it).
 * 6. Everything else → `json`: arrays of records without `_id`, maps of records, objects of
 *    collections, pretty-printed objects.
 *
 * Plain JSON that happens to use `_id` reads the same either way (numbers convert alike),
 * so rules 4–5 only decide who streams it.
 *
 * @example
 * await detectJsonFlavour('exports/users.json'); // { flavour: 'ejson', reason: 'Extended JSON type wrapper "$oid"' }
 */
export async function detectJsonFlavour(location: string): Promise<FlavourVerdict> {
  const files = await findCollectionFiles(location);
  const verdicts = await Promise.all(
    files.map(async ({ file }) => ({ file, ...(await flavourOfFile(file)) })),
  );
  const [first] = verdicts;
  if (!first) return { flavour: 'json', reason: 'no .json/.jsonl files found' };
  const other = verdicts.find((v) => v.flavour !== first.flavour);
  if (other) {
    throw new FerryError('the folder mixes Extended JSON exports and plain JSON files', {
      code: 'SOURCE_MIXED_JSON_FLAVOURS',
      category: 'input',
      where: { file: location },
      hint: `${first.file} looks like ${first.flavour} (${first.reason}) but ${other.file} like ${other.flavour} (${other.reason}); put them in separate folders`,
    });
  }
  return verdicts.length === 1
    ? first
    : { flavour: first.flavour, reason: `all ${verdicts.length} files: ${first.reason}` };
}

async function flavourOfFile(file: string): Promise<FlavourVerdict> {
  if (/\.(jsonl|ndjson)(\.gz)?$/i.test(file))
    return { flavour: 'ejson', reason: 'one-document-per-line file extension' };
  const head = (await readHead(file, HEAD_BYTES)).toString('utf8').replace(/^\uFEFF/, '');
  return flavourOfText(head);
}

/**
 * The text rules of {@link detectJsonFlavour}, on a file's beginning.
 *
 * @example
 * flavourOfText('{"a":1}\n{"a":2}\n').flavour; // 'ejson'
 */
export function flavourOfText(head: string): FlavourVerdict {
  const wrapper = EJSON_WRAPPER.exec(head);
  if (wrapper) return { flavour: 'ejson', reason: `Extended JSON type wrapper "$${wrapper[1]}"` };
  const text = head.trimStart();
  if (text.startsWith('{')) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const complete = lines.slice(0, 2).filter((l) => isObjectText(l));
    if (complete.length >= 2) return { flavour: 'ejson', reason: 'one JSON document per line' };
    if (lines.length === 1 && complete.length === 1 && hasTopLevelId(lines[0] as string)) {
      return { flavour: 'ejson', reason: 'a single document with _id' };
    }
    return { flavour: 'json', reason: 'a JSON object that is not one document per line' };
  }
  if (text.startsWith('[')) {
    return /^\[\s*\{\s*"_id"\s*:/.test(text)
      ? { flavour: 'ejson', reason: 'a JSON array of documents with _id' }
      : { flavour: 'json', reason: 'a JSON array of records without _id' };
  }
  return { flavour: 'json', reason: 'no Extended JSON clue' };
}

function isObjectText(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function hasTopLevelId(line: string): boolean {
  const value = JSON.parse(line) as Record<string, unknown>;
  return Object.hasOwn(value, '_id');
}
