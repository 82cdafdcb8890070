import type { CollectionPlan, Plan } from '../mapping/model.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import type { Source } from '../sources/types.js';
import { prepareChunks } from './chunk.js';
import { rejectSample } from './reject-record.js';
import type { BackfillProgress, CollectionSummary, RejectSample } from './types.js';

/**
 * `backfill --dry-run` for one collection: read everything, `toRows` everything, count what
 * would be written and what would be rejected, and touch no database at all. Load rejects
 * (constraints) need a database, so a dry run can only promise the read and transform ones.
 *
 * @example
 * declare const source: Source;
 * declare const plan: Plan;
 * const [summary] = await dryRunCollection(source, plan, plan.collections[0]!, ['app'], 1000, {});
 * summary!.run.migrated + summary!.run.rejected === summary!.run.read; // true
 */
export async function dryRunCollection(
  source: Source,
  plan: Plan,
  collection: CollectionPlan,
  schemas: readonly string[],
  batchSize: number,
  options: {
    transforms?: TransformRegistry;
    signal?: AbortSignal;
    onProgress?: (p: BackfillProgress) => void;
  },
): Promise<readonly CollectionSummary[]> {
  const started = Date.now();
  const rows = new Map<string, number>(collection.tables.map((t) => [t.name, 0]));
  const samples: RejectSample[] = [];
  let read = 0;
  let migrated = 0;
  let rejected = 0;
  const batches = source.read(collection.name, {
    batchSize,
    raw: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  for await (const chunk of prepareChunks(
    plan,
    batches,
    options.transforms ? { transforms: options.transforms } : {},
  )) {
    read += chunk.read;
    migrated += chunk.docs.count;
    rejected += chunk.rejects.length;
    collection.tables.forEach((table, i) => {
      rows.set(table.name, (rows.get(table.name) ?? 0) + chunk.docs.rows(i, 0, chunk.docs.count));
    });
    for (const r of chunk.rejects) if (samples.length < 20) samples.push(rejectSample(r));
    options.onProgress?.({ collection: collection.name, phase: 'dry-run', read, migrated, rejected });
  }
  const durationMs = Date.now() - started;
  return schemas.map((schema) => ({
    collection: collection.name,
    schema,
    phase: 'dry-run' as const,
    read,
    migrated,
    rejected,
    run: { read, migrated, rejected },
    rows: Object.fromEntries(rows),
    durationMs,
    docsPerSecond: Math.round(read / Math.max(durationMs / 1000, 0.001)),
    rejectSamples: samples,
  }));
}
