import { calculateObjectSize } from 'bson';
import type { CollectionInfo, CollectionStats, Source, SourceReject } from './types.js';

/** How many rejects per collection inspect keeps to show; the count is always exact. */
const REJECT_SAMPLES = 5;

/** A reject as inspect shows it: where and why, but not the raw bytes (values stay out of output). */
export type RejectSample = Omit<SourceReject, 'raw'>;

/**
 * One collection as `inspectSource` reports it: exact statistics and a few damaged documents
 * to show (where and why, never their bytes).
 *
 * @example
 * declare const source: Source;
 * for (const c of await inspectSource(source)) console.log(c.name, c.count, c.rejects);
 */
export interface InspectedCollection extends CollectionStats {
  readonly rejectSamples: readonly RejectSample[];
}

interface Tally {
  count: number;
  bytes: number;
  maxBytes: number;
  rejects: number;
  readonly rejectSamples: RejectSample[];
  readonly info: CollectionInfo;
}

/**
 * How far `inspectSource` has read, reported as it goes.
 *
 * @example
 * declare const source: Source;
 * await inspectSource(source, { onProgress: (p: InspectProgress) => console.log(p.collection, p.documents) });
 */
export interface InspectProgress {
  readonly collection: string;
  readonly documents: number;
}

/**
 * Read every collection of a source once and report exact counts, average and maximum
 * document size (BSON bytes, the size MongoDB itself reports) and indexes. Counting by
 * reading is deliberate: metadata counts can be stale, and "exact" is the point of inspect.
 *
 * @example
 * const source = await openSource('dump/');
 * for (const c of await inspectSource(source)) console.log(c.name, c.count);
 */
export async function inspectSource(
  source: Source,
  options: { signal?: AbortSignal; onProgress?: (progress: InspectProgress) => void } = {},
): Promise<InspectedCollection[]> {
  const collections = await source.listCollections();
  const totals = new Map<string, Tally>(
    collections.map((c) => [
      c.name,
      { count: 0, bytes: 0, maxBytes: 0, rejects: 0, rejectSamples: [], info: c },
    ]),
  );
  const only = collections.map((c) => c.name);
  for await (const batch of source.readAll({ only, ...(options.signal && { signal: options.signal }) })) {
    const total = totals.get(batch.collection);
    if (!total) continue;
    for (const doc of batch.docs) {
      const size = calculateObjectSize(doc);
      total.count += 1;
      total.bytes += size;
      if (size > total.maxBytes) total.maxBytes = size;
    }
    total.rejects += batch.rejects.length;
    for (const { raw: _raw, ...sample } of batch.rejects.slice(
      0,
      REJECT_SAMPLES - total.rejectSamples.length,
    )) {
      total.rejectSamples.push(sample);
    }
    options.onProgress?.({ collection: batch.collection, documents: total.count });
  }
  return [...totals.values()].map(({ info, count, bytes, maxBytes, rejects, rejectSamples }) => ({
    name: info.name,
    ...(info.database !== undefined && { database: info.database }),
    count,
    avgBytes: count === 0 ? 0 : Math.round(bytes / count),
    maxBytes,
    indexes: info.indexes,
    rejects,
    rejectSamples,
  }));
}
