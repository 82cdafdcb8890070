import type { Document } from 'bson';
import type { Plan } from '../../mapping/model.js';
import type { Source } from '../../sources/types.js';
import type { Queryable } from '../../target/target-database.js';
import { hashPass, narrowBuckets } from '../../verify/bucket-scan.js';
import { loadRejectedIds } from '../../verify/rejected-ids.js';

/**
 * How one entity differs between the primary (MongoDB) and PostgreSQL:
 * - `missing`: in MongoDB, not in PostgreSQL;
 * - `extra`: in PostgreSQL, not in MongoDB;
 * - `changed`: in both, different under the canonical comparison.
 *
 * @example
 * declare const drift: EntityDrift;
 * const kind: DriftKind = drift.kind;   // 'missing' | 'extra' | 'changed'
 */
export type DriftKind = 'missing' | 'extra' | 'changed';

/**
 * One entity that differs, by its `_id` (as MongoDB holds it; decoded from its row for `extra`).
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const source: Source;
 * const found: EntityDrift[] = [];
 * await syncStores({ stores, source, dryRun: true, onDrift: (_collection, d) => found.push(d) });
 */
export interface EntityDrift {
  readonly kind: DriftKind;
  readonly id: unknown;
}

/**
 * An entity that differs, with what the scan saw of it in each store: the primary's document
 * (absent for `extra`) and the hash of PostgreSQL's rebuilt document (absent for `missing`).
 * The target was read before the primary, which is what lets `ferry sync` write `doc` without
 * reading the primary again (see `observedStates`).
 */
export interface ObservedDrift extends EntityDrift {
  readonly doc?: Document;
  readonly targetHash?: bigint;
}

/**
 * Where a drift scan of one collection stands, JSON-safe so `ferry.sync_runs` can keep it:
 * after the hash pass, the mismatching buckets in narrowing groups and how many groups are
 * done. A scan resumed from it narrows the remaining groups without hashing again.
 */
export interface DriftPosition {
  /** Low id-hash bits that pick a bucket. */
  readonly bits: number;
  readonly groups: readonly (readonly number[])[];
  readonly groupsDone: number;
  /** Source documents the hash pass compared. */
  readonly checked: number;
}

/**
 * What a drift scan reports, in order: `hashed` once (or not at all when resumed), then for
 * each group of buckets zero or more `drift` batches followed by `narrowed`.
 */
export type DriftEvent =
  | { readonly type: 'hashed'; readonly position: DriftPosition }
  | { readonly type: 'drift'; readonly entities: readonly ObservedDrift[] }
  | { readonly type: 'narrowed'; readonly position: DriftPosition };

/** What a drift scan reads. */
export interface FindDriftInput {
  /** The primary's documents; only `read` is used (a live server reads in `_id` order). */
  readonly source: Pick<Source, 'read'>;
  readonly db: Queryable;
  readonly plan: Plan;
  readonly collection: string;
  /** The target schema holding the collection's tables. */
  readonly schema: string;
  /** Continue a scan from here (from an earlier event's `position`) instead of hashing. */
  readonly resumeFrom?: DriftPosition;
  /** Per-entity entries a narrowing pass may hold at once (default 200 000). */
  readonly maxTracked?: number;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: 'hash' | 'narrow', documents: number) => void;
}

/**
 * Stream every entity of one collection that differs between MongoDB and PostgreSQL, with the
 * deep-verify machinery (src/verify/bucket-scan.ts): canonical hashes of the source documents
 * and of the documents rebuilt from PostgreSQL by `toDoc`, summed in id-hash buckets, then
 * the mismatching buckets narrowed to single entities. Memory is the bucket sums plus at most
 * `maxTracked` entries, whatever the collection's size; nothing holds every id.
 *
 * Entities that are open rejects in `ferry.rejects` are not reported: they are accounted for.
 * While the application writes, an entity in mid-write can be reported although the write
 * path is about to copy it; copying it again is harmless (a copy is idempotent).
 *
 * @example
 * declare const source: Source;
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * for await (const event of findDrift({ source, db, plan, collection: 'orders', schema: 'public' }))
 *   if (event.type === 'drift') for (const d of event.entities) console.log(d.kind, d.id);
 */
export async function* findDrift(input: FindDriftInput): AsyncGenerator<DriftEvent> {
  let position = input.resumeFrom;
  let rejected: Parameters<typeof narrowBuckets>[1]['rejected'];
  if (position === undefined) {
    const pass = await hashPass(input);
    rejected = pass.rejected;
    position = { bits: pass.bits, groups: pass.groups, groupsDone: 0, checked: pass.compared };
    yield { type: 'hashed', position };
  } else {
    rejected = await loadRejectedIds(input.db, input.schema, input.collection);
  }
  for (let g = position.groupsDone; g < position.groups.length; g++) {
    for await (const found of narrowBuckets(input, { bits: position.bits, rejected }, position.groups[g]!))
      yield {
        type: 'drift',
        entities: found.map((d) => ({
          kind: KINDS[d.kind],
          id: d.id,
          ...('doc' in d && { doc: d.doc }),
          ...('targetHash' in d && { targetHash: d.targetHash }),
        })),
      };
    position = { ...position, groupsDone: g + 1 };
    yield { type: 'narrowed', position };
  }
}

const KINDS = { missing_in_target: 'missing', extra_in_target: 'extra', content: 'changed' } as const;
