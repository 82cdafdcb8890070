import type { Document } from 'bson';
import type { Plan } from '../mapping/model.js';
import type { DocumentRows } from '../mapping/row-values.js';
import { toRows } from '../mapping/to-rows.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import type { ResumePosition, SourceBatch } from '../sources/types.js';
import { type RejectRecord, rejectFromMapping, rejectFromSource } from './reject-record.js';

/** A document that passed `toRows`, with its rows, kept whole in case the load refuses it. */
export interface PreparedDocument {
  readonly doc: Document;
  readonly rows: DocumentRows;
}

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
  readonly docs: readonly PreparedDocument[];
  /** Read and transform rejects; load rejects are found per schema while writing. */
  readonly rejects: readonly RejectRecord[];
  readonly position: ResumePosition;
  readonly read: number;
  readonly bytes: number;
}

/**
 * Normalise one source batch: `toRows` every document, collecting the refused ones as
 * transform rejects and the source's damaged ones as read rejects. Pure: no I/O.
 *
 * @example
 * const chunk = prepareChunk(plan, batch);
 * chunk.docs.length + chunk.rejects.length === chunk.read   // true
 */
export function prepareChunk(plan: Plan, batch: SourceBatch, transforms?: TransformRegistry): Chunk {
  const docs: PreparedDocument[] = [];
  const rejects: RejectRecord[] = batch.rejects.map(rejectFromSource);
  const options = transforms === undefined ? {} : { transforms };
  for (const doc of batch.docs) {
    const result = toRows(plan, batch.collection, doc, options);
    if (result.ok) docs.push({ doc, rows: result.rows });
    else rejects.push(rejectFromMapping(doc, result.reject));
  }
  return {
    collection: batch.collection,
    docs,
    rejects,
    position: batch.position,
    read: batch.docs.length + batch.rejects.length,
    bytes: batch.bytes,
  };
}

/**
 * Chunks from a stream of batches, normalising batch n+1 while the caller writes chunk n:
 * at most `ahead` chunks wait in memory, so memory stays bounded by batch size × (ahead + 1)
 * and a slow target slows the reader down (backpressure) instead of filling the heap.
 *
 * @example
 * for await (const chunk of prepareChunks(plan, source.read('orders', { batchSize: 500 }))) await write(chunk);
 */
export async function* prepareChunks(
  plan: Plan,
  batches: AsyncIterable<SourceBatch>,
  options: { transforms?: TransformRegistry; ahead?: number } = {},
): AsyncGenerator<Chunk> {
  const iterator = batches[Symbol.asyncIterator]();
  const ahead = Math.max(0, options.ahead ?? 1);
  const pending: Promise<IteratorResult<Chunk>>[] = [];
  const pull = (): Promise<IteratorResult<Chunk>> => {
    const next = iterator
      .next()
      .then(
        (r): IteratorResult<Chunk> =>
          r.done
            ? { done: true, value: undefined }
            : { done: false, value: prepareChunk(plan, r.value, options.transforms) },
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
