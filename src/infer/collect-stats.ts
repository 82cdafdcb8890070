import type { Document } from 'bson';
import { FerryError } from '../core/errors.js';
import { decodeFrame } from '../sources/bson/decode-frame.js';
import { recoverId } from '../sources/bson/recover-id.js';
import type { Source, SourceBatch } from '../sources/types.js';
import { InferenceStats } from './collector.js';
import { hash53 } from './hash-sketch.js';
import { rawIdHash } from './id-hash.js';
import type { InferLimits } from './limits.js';
import { Reservoir } from './reservoir.js';

/**
 * How `--sample N` picks documents, per collection:
 * - `random` (default): a uniform sample by a seeded reservoir. Every document is still read
 *   (so every `_id` feeds reference detection and overlaps stay exact), but only N per
 *   collection are analysed. Chosen as the default because the first documents are the
 *   oldest, and schema drift lives in the newest ones. Holds N documents per collection in
 *   memory until the read ends.
 * - `first`: the first N in source order; stops reading early, so it is the fast choice on
 *   huge collections, but `_id`s are partial and reference overlaps into a collection
 *   understate (flagged `targetComplete: false`).
 * - `first-then-ids`: the first N analysed, and every later document's `_id` noted. From a
 *   dump or an archive the later documents stay undecoded BSON (only the leading `_id` is
 *   read), so it costs little more than `first` while `_id`s stay complete and reference
 *   overlaps exact. What `migrate` infers from, then checks the load against (sample-check.ts).
 */
export type SampleMode = 'random' | 'first' | 'first-then-ids';

/** Progress after each batch, cumulative per collection. */
export interface CollectProgress {
  readonly collection: string;
  /** Documents read from the source. */
  readonly read: number;
  /** Documents analysed (equals `read` without a sample). */
  readonly analysed: number;
  readonly bytes: number;
}

/** Options of `collectStats`. */
export interface CollectStatsOptions {
  /** Analyse N documents per collection; omit for all (`--full`, the default). */
  readonly sample?: number;
  readonly sampleMode?: SampleMode;
  /** Seed of the random sample (default 1): same source and seed, same sample. */
  readonly seed?: number;
  /** Only these collections. */
  readonly only?: readonly string[];
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: CollectProgress) => void;
  readonly limits?: Partial<InferLimits>;
}

/**
 * Read a source through its `Source` contract and collect field statistics.
 *
 * @example
 * declare const source: Source;
 * declare const bar: { update(progress: unknown): void };
 * const stats = await collectStats(source, { sample: 10_000, onProgress: (p) => bar.update(p) });
 * console.log(JSON.stringify(stats.snapshot(), null, 2));
 */
export async function collectStats(
  source: Source,
  options: CollectStatsOptions = {},
): Promise<InferenceStats> {
  const { sample, sampleMode = 'random' } = options;
  if (sample !== undefined && (!Number.isInteger(sample) || sample < 1)) {
    throw new FerryError(`--sample must be a positive whole number, got ${sample}`, {
      code: 'INFER_BAD_SAMPLE',
      category: 'usage',
      hint: 'pass e.g. --sample 10000, or --full to read everything',
    });
  }
  const stats = new InferenceStats(options.limits ? { limits: options.limits } : {});
  const collections = (await source.listCollections())
    .map((c) => c.name)
    .filter((name) => !options.only || options.only.includes(name));
  // Empty collections still appear in the snapshot, and can still be reference targets.
  for (const name of collections) stats.addCollection(name);
  const progress = new ProgressTracker(options.onProgress);

  if (sample !== undefined && sampleMode === 'first') {
    for (const name of collections) await readFirst(source, stats, name, sample, options, progress);
    return stats;
  }
  if (sample !== undefined && sampleMode === 'first-then-ids') {
    await readFirstThenIds(source, stats, collections, sample, options, progress);
    return stats;
  }
  const reservoirs = new Map<string, Reservoir<Document>>();
  const read = { ...(options.batchSize ? { batchSize: options.batchSize } : {}), only: collections };
  for await (const batch of source.readAll(options.signal ? { ...read, signal: options.signal } : read)) {
    options.signal?.throwIfAborted();
    stats.addRejects(batch.collection, batch.rejects.length);
    if (sample === undefined) {
      for (const doc of batch.docs) stats.add(batch.collection, doc);
      progress.report(batch, batch.docs.length);
      continue;
    }
    let reservoir = reservoirs.get(batch.collection);
    if (!reservoir) {
      // Seeded per collection, so an archive's interleaving does not change a collection's sample.
      reservoir = new Reservoir(sample, hash53(batch.collection, options.seed ?? 1));
      reservoirs.set(batch.collection, reservoir);
    }
    for (const doc of batch.docs) {
      reservoir.offer(doc);
      stats.noteId(batch.collection, doc._id);
    }
    progress.report(batch, 0);
  }
  for (const [name, reservoir] of [...reservoirs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const doc of reservoir.items()) stats.add(name, doc, { idNoted: true });
    if (reservoir.seen > reservoir.size) stats.markPartial(name, { idsComplete: true });
  }
  return stats;
}

async function readFirst(
  source: Source,
  stats: InferenceStats,
  name: string,
  sample: number,
  options: CollectStatsOptions,
  progress: ProgressTracker,
): Promise<void> {
  let taken = 0;
  const read = { ...(options.batchSize ? { batchSize: options.batchSize } : {}) };
  for await (const batch of source.read(name, options.signal ? { ...read, signal: options.signal } : read)) {
    options.signal?.throwIfAborted();
    stats.addRejects(name, batch.rejects.length);
    if (taken >= sample) {
      // One batch past the sample only to learn that the collection had more.
      if (batch.docs.length > 0) {
        stats.markPartial(name, { idsComplete: false });
        break;
      }
      continue;
    }
    const docs = batch.docs.slice(0, sample - taken);
    for (const doc of docs) stats.add(name, doc);
    taken += docs.length;
    progress.report(batch, docs.length);
    if (docs.length < batch.docs.length) {
      stats.markPartial(name, { idsComplete: false });
      break;
    }
  }
}

async function readFirstThenIds(
  source: Source,
  stats: InferenceStats,
  collections: readonly string[],
  sample: number,
  options: CollectStatsOptions,
  progress: ProgressTracker,
): Promise<void> {
  const counts = new Map<string, { seen: number; analysed: number }>();
  const read = {
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    only: collections,
    raw: true,
  };
  for await (const batch of source.readAll(options.signal ? { ...read, signal: options.signal } : read)) {
    options.signal?.throwIfAborted();
    const name = batch.collection;
    const count = counts.get(name) ?? { seen: 0, analysed: 0 };
    counts.set(name, count);
    const analysedBefore = count.analysed;
    let rejects = batch.rejects.length;
    const observe = (doc: Document) => {
      count.seen++;
      if (count.analysed < sample) {
        stats.add(name, doc);
        count.analysed++;
      } else stats.noteId(name, doc._id);
    };
    for (const doc of batch.docs) observe(doc);
    if (batch.raw) {
      let undecodable = 0;
      for (const frame of batch.raw.frames) {
        // Past the sample only the `_id` matters, and mongod stores it first: no full decode,
        // and for an ObjectId or a string not even of the `_id` (rawIdHash).
        if (count.analysed >= sample) {
          const hash = rawIdHash(frame.bytes);
          if (hash !== undefined) {
            count.seen++;
            stats.noteIdHash(name, hash);
            continue;
          }
        }
        const id = count.analysed >= sample ? recoverId(frame.bytes) : undefined;
        if (id !== undefined) {
          count.seen++;
          stats.noteId(name, id);
          continue;
        }
        const entry = decodeFrame(frame, batch.raw.context);
        if (entry.kind === 'doc') observe(entry.doc);
        else undecodable++;
      }
      batch.raw.noteRejects(undecodable);
      rejects += undecodable;
    }
    stats.addRejects(name, rejects);
    progress.report(
      batch,
      count.analysed - analysedBefore,
      batch.raw ? batch.raw.frames.length : batch.docs.length,
    );
  }
  for (const [name, count] of counts) {
    if (count.seen > count.analysed) stats.markPartial(name, { idsComplete: true });
  }
}

class ProgressTracker {
  readonly #totals = new Map<string, { read: number; analysed: number; bytes: number }>();
  readonly #callback: ((progress: CollectProgress) => void) | undefined;

  constructor(callback: ((progress: CollectProgress) => void) | undefined) {
    this.#callback = callback;
  }

  report(batch: SourceBatch, analysed: number, read = batch.docs.length): void {
    if (!this.#callback) return;
    const total = this.#totals.get(batch.collection) ?? { read: 0, analysed: 0, bytes: 0 };
    total.read += read;
    total.analysed += analysed;
    total.bytes += batch.bytes;
    this.#totals.set(batch.collection, total);
    this.#callback({ collection: batch.collection, ...total });
  }
}
