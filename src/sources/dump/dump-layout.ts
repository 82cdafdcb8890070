import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { FerryError } from '../../core/errors.js';
import { missingFileError, openInput } from '../files/open-input.js';
import type { IndexSpec } from '../types.js';
import { collectionNames, isSystemCollection } from './collection-names.js';
import { parseDumpMetadata } from './dump-metadata.js';

/** One collection found in a dump, with the files that hold it. */
export interface DumpCollection {
  /** The name `read()` takes (see `collectionNames`). */
  readonly name: string;
  readonly database: string | undefined;
  readonly collection: string;
  /** `db.collection`, for messages. */
  readonly namespace: string;
  /** The `.bson`/`.bson.gz` file; absent when only metadata was dumped (an empty collection). */
  readonly dataFile: string | undefined;
  readonly metadataFile: string | undefined;
  readonly indexes: readonly IndexSpec[];
}

const DATA = /^(.*)\.bson(\.gz)?$/;
const METADATA = /^(.*)\.metadata\.json(\.gz)?$/;

/**
 * Find the collections of a mongodump output: the dump root (`<root>/<db>/<coll>.bson`),
 * one database folder, or a single `.bson` file. Reads every metadata file now, so a broken
 * one is reported before any data moves. System collections and views (which hold no data)
 * are left out.
 *
 * @example
 * const collections = await discoverDump('dump/'); // [{ name: 'orders', database: 'shop', … }]
 */
export async function discoverDump(location: string): Promise<DumpCollection[]> {
  const info = await stat(location).catch((cause: NodeJS.ErrnoException) => {
    throw missingFileError(location, cause);
  });
  let found: Omit<DumpCollection, 'name'>[];
  if (info.isFile()) {
    const stem = DATA.exec(path.basename(location))?.[1];
    if (stem === undefined) throw notADump(location);
    found = await describeFolder(path.dirname(location), undefined, [path.basename(location)], stem);
  } else {
    const entries = await readdir(location, { withFileTypes: true });
    // `oplog.bson` (from --oplog) sits at the root of a dump of several databases.
    const ownFiles = entries
      .filter((e) => e.isFile() && (DATA.test(e.name) || METADATA.test(e.name)) && e.name !== 'oplog.bson')
      .map((e) => e.name);
    if (ownFiles.length > 0) {
      found = await describeFolder(location, path.basename(path.resolve(location)), ownFiles);
    } else {
      found = [];
      for (const dir of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
        const folder = path.join(location, dir.name);
        found.push(...(await describeFolder(folder, dir.name, await readdir(folder))));
      }
    }
  }
  found.sort(
    (a, b) => a.collection.localeCompare(b.collection) || (a.database ?? '').localeCompare(b.database ?? ''),
  );
  const names = collectionNames(found.map((c) => ({ database: c.database ?? '', collection: c.collection })));
  return found.map((c, i) => ({ ...c, name: names[i]! }));
}

async function describeFolder(
  folder: string,
  database: string | undefined,
  files: readonly string[],
  onlyStem?: string,
): Promise<Omit<DumpCollection, 'name'>[]> {
  const stems = new Map<string, { data?: string; metadata?: string }>();
  for (const file of files) {
    const data = DATA.exec(file);
    const meta = data ? undefined : METADATA.exec(file);
    const stem = data?.[1] ?? meta?.[1];
    if (stem === undefined || (onlyStem !== undefined && stem !== onlyStem)) continue;
    const slot = stems.get(stem) ?? {};
    const kind = data ? 'data' : 'metadata';
    if (slot[kind] !== undefined) throw bothCompressedAndNot(folder, slot[kind], file);
    slot[kind] = file;
    stems.set(stem, slot);
  }
  if (onlyStem !== undefined && !stems.has(onlyStem)) {
    // A single file given explicitly: its metadata may be missing, that is fine.
    stems.set(onlyStem, {});
  }
  const out: Omit<DumpCollection, 'name'>[] = [];
  for (const [stem, slot] of stems) {
    const metadataFile = slot.metadata && path.join(folder, slot.metadata);
    const meta = metadataFile
      ? parseDumpMetadata(await readText(metadataFile), { file: metadataFile })
      : undefined;
    const collection = meta?.collectionName ?? unescapeName(stem);
    if (isSystemCollection(collection)) continue;
    if (meta?.type === 'view' && slot.data === undefined) continue;
    out.push({
      database,
      collection,
      namespace: database === undefined ? collection : `${database}.${collection}`,
      dataFile: slot.data && path.join(folder, slot.data),
      metadataFile,
      indexes: meta?.indexes ?? [],
    });
  }
  return out;
}

async function readText(file: string): Promise<string> {
  const { stream } = await openInput(file);
  return text(stream);
}

/** mongodump percent-escapes characters a file name cannot hold (`url.PathEscape`). */
function unescapeName(stem: string): string {
  if (!stem.includes('%')) return stem;
  try {
    return decodeURIComponent(stem);
  } catch {
    return stem;
  }
}

function notADump(location: string): FerryError {
  return new FerryError(`${location} is not a mongodump .bson file or directory`, {
    code: 'SOURCE_NOT_A_DUMP',
    category: 'usage',
    where: { file: location },
  });
}

function bothCompressedAndNot(folder: string, first: string, second: string): FerryError {
  return new FerryError(`${folder} holds both ${first} and ${second}; cannot tell which is current`, {
    code: 'SOURCE_AMBIGUOUS_DUMP',
    category: 'input',
    where: { file: path.join(folder, second) },
    hint: 'remove the stale one',
  });
}
