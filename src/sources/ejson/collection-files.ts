import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../core/errors.js';
import { missingFileError } from '../files/open-input.js';

/** One collection backed by one file. */
export interface CollectionFile {
  readonly name: string;
  readonly file: string;
}

const DATA_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/i;

/**
 * The collection a file holds: its name without the data extensions, so `users.json`,
 * `users.jsonl` and `users.json.gz` all give `users`, while `shop.users.json` keeps its
 * dot (mongoexport names are chosen by the user; we strip only what we know).
 *
 * @example
 * collectionNameOf('/exports/users.json.gz'); // 'users'
 */
export function collectionNameOf(file: string): string {
  return path
    .basename(file)
    .replace(/\.gz$/i, '')
    .replace(/\.(json|jsonl|ndjson)$/i, '');
}

/**
 * The collections under a path: the file itself, or every `.json`/`.jsonl`/`.ndjson`
 * (optionally `.gz`) file directly in a folder, sorted by name. Two files that would give
 * the same collection (`users.json` and `users.json.gz`) are an error, not a silent merge.
 *
 * @example
 * await findCollectionFiles('exports/'); // [{ name: 'theaters', file: 'exports/theaters.json' }, …]
 */
export async function findCollectionFiles(location: string): Promise<readonly CollectionFile[]> {
  const info = await stat(location).catch((cause: NodeJS.ErrnoException) => {
    throw missingFileError(location, cause);
  });
  if (info.isFile()) return [{ name: collectionNameOf(location), file: location }];
  const entries = await readdir(location, { withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && DATA_FILE.test(entry.name))
    .map((entry) => ({ name: collectionNameOf(entry.name), file: path.join(location, entry.name) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.file < b.file ? -1 : 1));
  for (let i = 1; i < files.length; i++) {
    const [previous, current] = [files[i - 1], files[i]];
    if (previous && current && previous.name === current.name) {
      throw new FerryError(
        `two files hold collection "${current.name}": ${previous.file} and ${current.file}`,
        {
          code: 'SOURCE_DUPLICATE_COLLECTION',
          category: 'input',
          where: { file: current.file, collection: current.name },
          hint: 'keep one of them, or move one to another folder',
        },
      );
    }
  }
  return files;
}

/** The named collection's file, or a `SOURCE_UNKNOWN_COLLECTION` error listing the known ones. */
export function fileOf(
  files: readonly CollectionFile[],
  collection: string,
  location: string,
): CollectionFile {
  const found = files.find((f) => f.name === collection);
  if (found) return found;
  throw new FerryError(`no collection "${collection}" in ${location}`, {
    code: 'SOURCE_UNKNOWN_COLLECTION',
    category: 'usage',
    where: { file: location, collection },
    hint: `known collections: ${files.map((f) => f.name).join(', ') || '(none)'}`,
  });
}
