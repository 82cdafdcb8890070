import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FerryError } from '../core/errors.js';
import { missingFileError } from './files/open-input.js';
import type { SourceKind } from './types.js';

/** mongodump --archive files start with this little-endian int32. */
const ARCHIVE_MAGIC = 0x8199e26d;

/**
 * Decide what kind of source a user-given location is, from what is there rather than
 * from names alone: a `mongodb://` URI, a dump directory (BSON files, possibly one level
 * down per database), an archive (by its magic number, gzipped or not), or JSON files.
 * JSON is refined into `ejson` vs `json` by the JSON readers' own heuristic.
 *
 * @example
 * await detectSourceKind('mongodb://localhost/shop'); // 'mongodb'
 * await detectSourceKind('backup.archive.gz');        // 'archive'
 */
export async function detectSourceKind(location: string): Promise<SourceKind | 'json-like'> {
  if (/^mongodb(\+srv)?:\/\//i.test(location)) return 'mongodb';
  const info = await stat(location).catch((cause: NodeJS.ErrnoException) => {
    throw missingFileError(location, cause);
  });
  if (info.isDirectory()) return (await directoryHoldsBson(location)) ? 'dump' : 'json-like';
  if (await fileIsArchive(location)) return 'archive';
  if (/\.bson(\.gz)?$/i.test(location)) return 'dump';
  if (/\.(json|jsonl|ndjson)(\.gz)?$/i.test(location)) return 'json-like';
  throw new FerryError(`cannot tell what kind of source ${location} is`, {
    code: 'SOURCE_UNKNOWN_KIND',
    category: 'usage',
    where: { file: location },
    hint: 'give a mongodb:// URI, a mongodump directory or archive, or .json/.jsonl files',
  });
}

async function directoryHoldsBson(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && /\.bson(\.gz)?$/i.test(e.name))) return true;
  for (const entry of entries.filter((e) => e.isDirectory())) {
    const inner = await readdir(path.join(dir, entry.name));
    if (inner.some((name) => /\.bson(\.gz)?$/i.test(name))) return true;
  }
  return false;
}

async function fileIsArchive(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    // 64 KiB of a gzip stream is plenty to inflate the first four bytes.
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    let bytes = head.subarray(0, bytesRead);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH: a partial stream is fine */ });
      } catch {
        return false;
      }
    }
    return bytes.length >= 4 && bytes.readUInt32LE(0) === ARCHIVE_MAGIC;
  } finally {
    await handle.close();
  }
}
