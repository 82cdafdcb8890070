/**
 * `ferry sync` as a library (DESIGN.md runtime rule 2): find the entities that differ between
 * MongoDB and PostgreSQL with the deep-verify buckets, and copy the primary's state of them.
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const uri: string;
 * const result = await syncStores({ stores, source: await openMongoSource(uri), dryRun: true });
 * result.collections   // [{ collection: 'orders', checked: 100000, missing: 3, extra: 1, changed: 8, … }]
 */
export { compareEntities, type EntityComparison } from './compare-entities.js';
export {
  type DriftEvent,
  type DriftKind,
  type DriftPosition,
  type EntityDrift,
  type FindDriftInput,
  findDrift,
} from './find-drift.js';
export { type CollectionSyncResult, type SyncOptions, type SyncResult, syncStores } from './sync.js';
export { lastSyncRun, type SyncProgress, type SyncRun } from './sync-runs.js';
