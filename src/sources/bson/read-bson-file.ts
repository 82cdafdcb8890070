import { FerryError } from '../../core/errors.js';
import { openInput } from '../files/open-input.js';
import type { ReadOptions, SourceBatch } from '../types.js';
import { BatchBuilder, checkReadOptions } from './batch-builder.js';
import { ByteReader } from './byte-reader.js';
import { type BsonEntry, type DecodeContext, frameEntry } from './decode-frame.js';
import { readFrame } from './read-frame.js';

export interface BsonStreamOptions extends DecodeContext {
  readonly file: string;
  /** Skip this many bytes first (a resume offset); the input must be at least that long. */
  readonly skipBytes?: number;
  readonly signal?: AbortSignal;
  /** Yield frames undecoded (`kind: 'raw'`), for `ReadOptions.raw`. */
  readonly raw?: boolean;
}

/**
 * Turn a stream of BSON bytes (a `.bson` file's content) into documents and rejects with
 * their byte offsets. Framing damage and truncation throw (see `readFrame`); a document that
 * frames but does not decode is yielded as a reject and reading goes on.
 *
 * @example
 * import type { Readable } from 'node:stream';
 * declare const stream: Readable;
 * for await (const entry of readBsonStream(stream, { file: 'orders.bson', collection: 'orders' })) {
 *   if (entry.kind === 'doc') console.log(entry.offset, entry.doc._id);
 * }
 */
export async function* readBsonStream(
  input: AsyncIterable<Uint8Array>,
  options: BsonStreamOptions,
): AsyncGenerator<BsonEntry> {
  const context = { file: options.file, collection: options.namespace ?? options.collection };
  const reader = new ByteReader(input, context);
  try {
    if (options.skipBytes) {
      const skipped = await reader.skip(options.skipBytes);
      if (skipped < options.skipBytes) throw resumeBeyondEnd(options, skipped);
    }
    for (;;) {
      options.signal?.throwIfAborted();
      const frame = await readFrame(reader, context);
      if (!frame) return;
      yield frameEntry(frame, options, options.raw);
    }
  } finally {
    await reader.close();
  }
}

/**
 * Read one `.bson` or `.bson.gz` file (gzip is sniffed, not guessed from the name) in
 * batches, optionally continuing after a previous batch's position.
 *
 * @example
 * import type { Document } from 'bson';
 * declare function load(docs: readonly Document[]): Promise<void>;
 * for await (const batch of readBsonFile('dump/shop/orders.bson', { collection: 'orders' })) {
 *   await load(batch.docs);
 * }
 */
export async function* readBsonFile(
  file: string,
  options: ReadOptions & { readonly collection: string; readonly namespace?: string },
): AsyncGenerator<SourceBatch> {
  const { batchSize, after } = checkReadOptions(options, options.collection);
  const { stream } = await openInput(file);
  const context = {
    file,
    collection: options.collection,
    ...(options.namespace !== undefined && { namespace: options.namespace }),
  };
  // A dump file has no checksum to weigh rejects against, so they need not be reported back.
  const raw = options.raw ? { context, noteRejects: () => {} } : undefined;
  const builder = new BatchBuilder(options.collection, batchSize, after?.index ?? 0, raw);
  try {
    const entries = readBsonStream(stream, {
      file,
      collection: options.collection,
      ...(options.namespace !== undefined && { namespace: options.namespace }),
      ...(after && { skipBytes: after.offset }),
      ...(options.signal && { signal: options.signal }),
      ...(options.raw && { raw: true }),
    });
    for await (const entry of entries) {
      builder.add(entry);
      if (builder.full) yield builder.flush();
    }
    if (!builder.empty) yield builder.flush();
  } finally {
    stream.destroy();
  }
}

/**
 * Count the documents in a `.bson` file exactly, checking the framing but not decoding:
 * a document that would be rejected still counts, since it was read.
 *
 * @example
 * await countBsonFile('dump/shop/orders.bson.gz', { collection: 'shop.orders' }); // 5000
 */
export async function countBsonFile(
  file: string,
  options: { readonly collection?: string; readonly signal?: AbortSignal } = {},
): Promise<number> {
  const { stream } = await openInput(file);
  const context = { file, ...(options.collection !== undefined && { collection: options.collection }) };
  const reader = new ByteReader(stream, context);
  let count = 0;
  try {
    while (await readFrame(reader, context)) {
      count += 1;
      if (count % 1024 === 0) options.signal?.throwIfAborted();
    }
    return count;
  } finally {
    await reader.close();
    stream.destroy();
  }
}

function resumeBeyondEnd(options: BsonStreamOptions, length: number): FerryError {
  return new FerryError(
    `cannot resume at byte ${options.skipBytes}: the input is only ${length} bytes long`,
    {
      code: 'SOURCE_BAD_RESUME_POSITION',
      category: 'input',
      where: { file: options.file, offset: length, collection: options.namespace ?? options.collection },
      hint: 'the file changed since the run started; start the collection again',
    },
  );
}
