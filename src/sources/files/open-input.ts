import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FerryError } from '../../core/errors.js';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

export interface InputStream {
  /** Decompressed bytes. Errors are FerryErrors naming the file (`SOURCE_BAD_GZIP`, `SOURCE_READ_FAILED`). */
  readonly stream: Readable;
  readonly gzipped: boolean;
  /** Size on disk (compressed size for gzip input). */
  readonly fileBytes: number;
}

/**
 * Open a file for streaming, transparently gunzipping it when it starts with the gzip
 * magic number. We sniff the bytes instead of trusting the extension: mongodump writes
 * `.gz` names only with `--gzip`, and users rename files.
 *
 * @example
 * const { stream } = await openInput('dump/shop/orders.bson.gz');
 * for await (const chunk of stream) console.log(chunk.length);
 */
export async function openInput(file: string): Promise<InputStream> {
  const info = await stat(file).catch((cause: NodeJS.ErrnoException) => {
    throw missingFileError(file, cause);
  });
  if (!info.isFile()) {
    throw new FerryError(`not a file: ${file}`, {
      code: 'SOURCE_NOT_A_FILE',
      category: 'input',
      where: { file },
    });
  }
  const gzipped = await startsWithGzipMagic(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (!gzipped) {
    raw.on('error', (cause) => raw.destroy(readError(file, cause)));
    return { stream: raw, gzipped, fileBytes: info.size };
  }
  // 256 KiB out per inflate call instead of zlib's 16 KiB: the inflating runs on the libuv
  // thread pool either way, but each call is a hop back to the main thread, and at 16 KiB
  // those hops cost the main thread about 3 × the CPU (bench/gzip.ts measures both).
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  raw.on('error', (cause) => gunzip.destroy(readError(file, cause)));
  // Errors from zlib carry no file name; rewrap so the user learns which file is damaged,
  // and where in it: the offset is in the compressed file, the one the user has on disk
  // (zlib's count of the bytes it consumed; for a file cut short, its end).
  const failed = (cause: Error) =>
    new FerryError(
      `bad gzip stream in ${file} at byte ${gunzip.bytesWritten} of ${info.size}: ${cause.message}`,
      {
        code: 'SOURCE_BAD_GZIP',
        category: 'input',
        cause,
        where: { file, offset: gunzip.bytesWritten },
        hint: 'the file is damaged or was cut short; re-create it with mongodump --gzip',
      },
    );
  const stream = raw.pipe(gunzip);
  const originalDestroy = stream.destroy.bind(stream);
  stream.destroy = (error?: Error) =>
    originalDestroy(error && !(error instanceof FerryError) ? failed(error) : error);
  return { stream, gzipped, fileBytes: info.size };
}

/** Bytes of decompressed output per zlib call; exported for the bench that measures it. */
export const GUNZIP_CHUNK_BYTES = 1 << 18;

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

export function missingFileError(file: string, cause: NodeJS.ErrnoException): FerryError {
  if (cause.code === 'ENOENT') {
    return new FerryError(`source not found: ${file}`, {
      code: 'SOURCE_NOT_FOUND',
      category: 'input',
      cause,
      where: { file },
      hint: 'check the path',
    });
  }
  return readError(file, cause);
}

function readError(file: string, cause: Error): FerryError {
  return new FerryError(`cannot read ${file}: ${cause.message}`, {
    code: 'SOURCE_READ_FAILED',
    category: 'input',
    cause,
    where: { file },
  });
}
