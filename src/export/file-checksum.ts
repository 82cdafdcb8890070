import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * What an export records about each file it wrote, so a later `ferry verify` can tell that
 * the file is still the one the manifest describes before it trusts the manifest's sums.
 *
 * @example
 * const sum: FileChecksum = { bytes: 1024, sha256: 'e3b0c442…' };
 */
export interface FileChecksum {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * The size and SHA-256 of a file's bytes as stored (compressed when gzipped), read in one
 * sequential pass: no document is decoded, so it costs a fraction of re-reading the export.
 *
 * @example
 * const { bytes, sha256 } = await fileChecksum('backup/shop.archive');
 */
export async function fileChecksum(file: string): Promise<FileChecksum> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
