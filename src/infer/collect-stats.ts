import type { Document } from 'bson';
import { FerryError } from '../core/errors.js';
import type { Source, SourceBatch } from '../sources/types.js';
import { InferenceStats } from './collector.js';
import { hash53 } from './hash-sketch.js';
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
 */
export type SampleMode = 'random' | 'first';

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

class ProgressTracker {
  readonly #totals = new Map<string, { read: number; analysed: number; bytes: number }>();
  readonly #callback: ((progress: CollectProgress) => void) | undefined;

  constructor(callback: ((progress: CollectProgress) => void) | undefined) {
    this.#callback = callback;
  }

  report(batch: SourceBatch, analysed: number): void {
    if (!this.#callback) return;
    const total = this.#totals.get(batch.collection) ?? { read: 0, analysed: 0, bytes: 0 };
    total.read += batch.docs.length;
    total.analysed += analysed;
    total.bytes += batch.bytes;
    this.#totals.set(batch.collection, total);
    this.#callback({ collection: batch.collection, ...total });
  }
}
