import type { Plan } from '../mapping/model.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import type { Source } from '../sources/types.js';
import type { TargetDatabase } from '../target/target-database.js';
import { idHash } from '../verify/document-id.js';
import { idReadings } from '../verify/rejected-ids.js';
import { loadAgain, markStillRejected, type RejectFilter, type RetryItem, whereClause } from './rejects.js';

/** What `retryFromSource` did. */
export interface SourceRetryResult {
  /** Loaded from the source now, and marked resolved. */
  readonly resolved: readonly number[];
  /** Read again, and still refused (at read, transform or load), with the current reason. */
  readonly stillRejected: readonly { readonly id: number; readonly stage: string; readonly reason: string }[];
  /** Rejects whose `_id` the source no longer has (or that never had one to look for). */
  readonly notInSource: readonly number[];
}

interface OpenReject {
  readonly id: number;
  readonly schema: string;
}

/**
 * Re-read the rejected documents from the source and load those that are now good: the
 * remedy after fixing the source itself (a JSON line that was not JSON, a damaged document
 * restored from a backup), where the stored raw text cannot help. Each collection with open
 * rejects is read once, start to end, and its documents matched to the rejects by `_id`
 * (the id a damaged line or document still gave; a reject with none cannot be matched).
 * Loading is `loadAgain`'s: one transaction per schema, rejects resolved and checkpoints
 * moved from `rejected` to `migrated` with the rows. A document the source still cannot read
 * keeps its reject with the new reason.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const source: Source;
 * const { resolved, stillRejected, notInSource } = await retryFromSource(db, plan, source, { collection: 'users' });
 */
export async function retryFromSource(
  db: TargetDatabase,
  plan: Plan,
  source: Source,
  filter: RejectFilter = {},
  options: { transforms?: TransformRegistry; signal?: AbortSignal } = {},
): Promise<SourceRetryResult> {
  const { where, params } = whereClause({ ...filter, all: false });
  const { rows } = await db.query<{ id: string; schema: string; collection: string; doc_id: string | null }>(
    `select id, schema, collection, doc_id from ferry.rejects ${where} order by id`,
    params,
  );
  const notInSource: number[] = [];
  const byCollection = new Map<string, Map<bigint, OpenReject[]>>();
  for (const row of rows) {
    if (row.doc_id === null || !plan.collections.some((c) => c.name === row.collection)) {
      notInSource.push(Number(row.id));
      continue;
    }
    const wanted = byCollection.get(row.collection) ?? new Map<bigint, OpenReject[]>();
    byCollection.set(row.collection, wanted);
    // Every reading of the stored id, so a hex string finds an ObjectId and vice versa.
    for (const id of new Set(idReadings(row.doc_id).map(idHash))) {
      const list = wanted.get(id) ?? [];
      list.push({ id: Number(row.id), schema: row.schema });
      wanted.set(id, list);
    }
  }
  const resolved: number[] = [];
  const stillRejected: { id: number; stage: string; reason: string }[] = [];
  for (const [collection, wanted] of byCollection) {
    const found = new Set<number>();
    const bySchema = new Map<string, RetryItem[]>();
    for await (const batch of source.read(collection, options.signal ? { signal: options.signal } : {})) {
      for (const doc of batch.docs)
        for (const reject of wanted.get(idHash(doc._id)) ?? []) {
          if (found.has(reject.id)) continue;
          found.add(reject.id);
          const items = bySchema.get(reject.schema) ?? [];
          items.push({ id: reject.id, doc });
          bySchema.set(reject.schema, items);
        }
      for (const bad of batch.rejects) {
        if (bad.id === undefined) continue;
        for (const reject of wanted.get(idHash(bad.id)) ?? []) {
          if (found.has(reject.id)) continue;
          found.add(reject.id);
          await markStillRejected(db, reject.id, 'read', bad.code, bad.reason);
          stillRejected.push({ id: reject.id, stage: 'read', reason: bad.reason });
        }
      }
    }
    for (const [schema, items] of bySchema) {
      const outcome = await loadAgain(db, plan, schema, collection, items, options.transforms);
      resolved.push(...outcome.resolved);
      stillRejected.push(...outcome.stillRejected);
    }
    for (const list of wanted.values())
      for (const reject of list) if (!found.has(reject.id)) notInSource.push(reject.id);
  }
  return {
    resolved: resolved.sort((a, b) => a - b),
    stillRejected,
    notInSource: [...new Set(notInSource)].sort((a, b) => a - b),
  };
}
