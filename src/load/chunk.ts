import { setImmediate } from 'node:timers/promises';
import type { Plan } from '../mapping/model.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import type { ResumePosition, SourceBatch } from '../sources/types.js';
import { ChunkEncoder } from './chunk-encoder.js';
import type { EncodeWorkers } from './encode-workers.js';
import type { EncodedDocuments } from './encoded-documents.js';
import { type RejectRecord, rejectFromSource } from './reject-record.js';

/**
 * The unit of work and of commit: one source batch, normalised. Its rows, its rejects and
 * the checkpoint `position` are written in one transaction per target schema, so the chunk is
 * either wholly in the target or not at all (DESIGN.md invariant 3).
 *
 * `read` counts every document the source handed over (good ones and read rejects), so that
 * after the load `migrated + rejected = read` holds per chunk and therefore per collection.
 */
export interface Chunk {
  readonly collection: string;
  /** The documents that passed `toRows`, as COPY text per table. */
  readonly docs: EncodedDocuments;
  /** Read and transform rejects; load rejects are found per schema while writing. */
  readonly rejects: readonly RejectRecord[];
  readonly position: ResumePosition;
  readonly read: number;
  readonly bytes: number;
}

/**
 * Normalise one source batch: encode every document's rows as COPY text, collecting the
 * refused ones as transform rejects and the source's damaged ones as read rejects. Pure: no I/O.
 * `encoder` (one per collection) is reused across batches to reuse its buffers.
 *
 * @example
 * declare const plan: Plan;
 * declare const batch: SourceBatch;
 * const chunk = prepareChunk(plan, batch);
 * chunk.docs.count + chunk.rejects.length === chunk.read   // true
 */
export function prepareChunk(
  plan: Plan,
  batch: SourceBatch,
  transforms?: TransformRegistry,
  encoder = new ChunkEncoder(plan, batch.collection, transforms),
): Chunk {
  const rejects: RejectRecord[] = batch.rejects.map(rejectFromSource);
  for (const _ of encodeInSlices(batch, encoder, rejects));
  return finishChunk(batch, encoder, rejects);
}

/**
 * `prepareChunk` that lets the event loop run between slices of the batch. Encoding a whole
 * batch is tens of milliseconds of CPU; done in one go it would hold up the replies of the
 * chunk being written meanwhile, and PostgreSQL would sit idle waiting for its next statement.
 */
async function prepareChunkInSlices(batch: SourceBatch, encoder: ChunkEncoder): Promise<Chunk> {
  const rejects: RejectRecord[] = batch.rejects.map(rejectFromSource);
  for (const _ of encodeInSlices(batch, encoder, rejects)) await setImmediate();
  return finishChunk(batch, encoder, rejects);
}

/** Documents per slice: about a millisecond or two of encoding. */
const SLICE = 64;

/** Encode the batch's documents into `encoder`, pausing (yielding) after every slice. */
function* encodeInSlices(
  batch: SourceBatch,
  encoder: ChunkEncoder,
  rejects: RejectRecord[],
): Generator<void> {
  for (let i = 0; i < batch.docs.length; i++) {
    const reject = encoder.addDocument(batch.docs[i]!);
    if (reject !== undefined) rejects.push(reject);
    if ((i + 1) % SLICE === 0) yield;
  }
  const raw = batch.raw;
  if (raw === undefined) return;
  for (let from = 0; from < raw.frames.length; from += SLICE) {
    rejects.push(...encoder.addFrames(raw, from, Math.min(from + SLICE, raw.frames.length)));
    yield;
  }
}

function finishChunk(batch: SourceBatch, encoder: ChunkEncoder, rejects: RejectRecord[]): Chunk {
  return { ...chunkOf(batch), docs: encoder.finish(), rejects };
}

/** What a chunk takes from its batch as it is. */
function chunkOf(batch: SourceBatch): Pick<Chunk, 'collection' | 'position' | 'read' | 'bytes'> {
  return {
    collection: batch.collection,
    position: batch.position,
    read: batch.docs.length + batch.rejects.length + (batch.raw?.frames.length ?? 0),
    bytes: batch.bytes,
  };
}

/**
 * Chunks from a stream of batches, normalising batch n+1 while the caller writes chunk n:
 * at most `ahead` chunks wait in memory, so memory stays bounded by batch size × (ahead + 1)
 * and a slow target slows the reader down (backpressure) instead of filling the heap.
 *
 * @example
 * declare const plan: Plan;
 * declare const source: Source;
 * declare function write(chunk: Chunk): Promise<void>;
 * for await (const chunk of prepareChunks(plan, source.read('orders', { batchSize: 500 }))) await write(chunk);
 */
export async function* prepareChunks(
  plan: Plan,
  batches: AsyncIterable<SourceBatch>,
  options: { transforms?: TransformRegistry; ahead?: number; workers?: EncodeWorkers; binary?: boolean } = {},
): AsyncGenerator<Chunk> {
  const iterator = batches[Symbol.asyncIterator]();
  const ahead = Math.max(0, options.ahead ?? 1);
  const encoders = new Map<string, ChunkEncoder>();
  const prepare = async (batch: SourceBatch): Promise<Chunk> => {
    const offloaded =
      options.workers !== undefined && batch.raw !== undefined && batch.docs.length === 0
        ? await options.workers.encode(batch.raw, options.binary === true)
        : undefined;
    if (offloaded !== undefined) {
      const rejects = [...batch.rejects.map(rejectFromSource), ...offloaded.rejects];
      return { ...chunkOf(batch), docs: offloaded.docs, rejects };
    }
    let encoder = encoders.get(batch.collection);
    if (encoder === undefined) {
      encoder = new ChunkEncoder(plan, batch.collection, options.transforms, options.binary === true);
      encoders.set(batch.collection, encoder);
    }
    return prepareChunkInSlices(batch, encoder);
  };
  const pending: Promise<IteratorResult<Chunk>>[] = [];
  const pull = (): Promise<IteratorResult<Chunk>> => {
    const next = iterator
      .next()
      .then(
        async (r): Promise<IteratorResult<Chunk>> =>
          r.done ? { done: true, value: undefined } : { done: false, value: await prepare(r.value) },
      );
    // A read that fails while the caller is still writing is rethrown when awaited; without
    // this handler Node would call it unhandled (and exit) before then.
    next.catch(() => {});
    return next;
  };
  try {
    pending.push(pull());
    for (;;) {
      const next = await pending.shift()!;
      if (next.done) return;
      // The source is asked for the next batch only now, and only `ahead` deep: the reads of
      // a sequential source must not run concurrently with each other.
      if (pending.length < ahead) pending.push(pull());
      yield next.value;
      if (pending.length === 0) pending.push(pull());
    }
  } finally {
    // Settle a read in flight before closing the source's iterator, or its close races it.
    await Promise.allSettled(pending);
    await iterator.return?.();
  }
}
