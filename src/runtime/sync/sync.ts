import { setTimeout as sleep } from 'node:timers/promises';
import { EJSON } from 'bson';
import type { Source } from '../../sources/types.js';
import { ensureFerryState } from '../../target/ferry-state.js';
import { selectCollections } from '../../verify/verify.js';
import { copyEntitiesToPostgres, EntityCopyError, type RuntimeStores } from '../entity-copy.js';
import { targetOf } from '../stores.js';
import { compareEntities } from './compare-entities.js';
import { type DriftPosition, type EntityDrift, findDrift, type ObservedDrift } from './find-drift.js';
import { observedStates } from './observed-states.js';
import { finishSyncRun, recordSyncProgress, type SyncProgress, startSyncRun } from './sync-runs.js';

/**
 * What `syncStores` needs: the two stores (as the runtime holds them) and a reader of the primary.
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const uri: string;
 * const options: SyncOptions = { stores, source: await openMongoSource(uri), only: ['orders'], resume: true };
 * const result = await syncStores(options);
 */
export interface SyncOptions {
  readonly stores: RuntimeStores;
  /** The primary's documents in `_id` order, e.g. `openMongoSource(uri)` on the same database. */
  readonly source: Pick<Source, 'read'>;
  /** Only these collections (default: every collection of the plan). */
  readonly only?: readonly string[];
  /** Find and report drift, change nothing (and record no run). */
  readonly dryRun?: boolean;
  /** Continue the latest unfinished run of the schema. */
  readonly resume?: boolean;
  /** Documents per read batch (default 1000). */
  readonly batchSize?: number;
  /** Per-entity entries a narrowing pass may hold at once (default 200 000). */
  readonly maxTracked?: number;
  readonly signal?: AbortSignal;
  /** Each entity found differing, as it is found (a dry run lists them from here). */
  readonly onDrift?: (collection: string, drift: EntityDrift) => void;
  readonly onProgress?: (update: { collection: string; phase: string; documents: number }) => void;
}

/**
 * One collection's outcome.
 *
 * @example
 * declare const result: SyncResult;
 * for (const c of result.collections as readonly CollectionSyncResult[])
 *   console.log(c.collection, c.ok ? 'in step' : `${c.skipped} left: ${c.unresolved.join(', ')}`);
 */
export interface CollectionSyncResult extends Omit<SyncProgress, 'position' | 'finished'> {
  readonly collection: string;
  /**
   * Entities still different after the repair (a copy that failed, a document the mapping
   * rejects), as canonical Extended JSON `_id`s; at most 100 listed, all counted in `skipped`.
   */
  readonly unresolved: readonly string[];
  /** The stores are equal for this collection now (for a dry run: no drift was found). */
  readonly ok: boolean;
  readonly seconds: number;
}

/**
 * What `syncStores` did: each collection's outcome, and whether the stores ended equal.
 *
 * @example
 * declare const options: SyncOptions;
 * const { ok, runId, collections, seconds }: SyncResult = await syncStores(options);
 * console.log(`run ${runId ?? '(dry)'}: ${collections.length} collections in ${seconds} s, ${ok ? 'equal' : 'not equal'}`);
 */
export interface SyncResult {
  /** The `ferry.sync_runs` id (absent for a dry run, which records nothing). */
  readonly runId?: number;
  readonly dryRun: boolean;
  readonly schema: string;
  readonly collections: readonly CollectionSyncResult[];
  readonly ok: boolean;
  readonly seconds: number;
}

/** Entities written per repair step: the copier's lock batches, a few times over. */
const REPAIR_BATCH = 1000;
/** Written entities confirmed at once: ids and two hashes each in memory. */
const CONFIRM_BATCH = 50_000;
/** Copies of one entity before it counts as skipped: later attempts cover a write in flight. */
const REPAIR_ATTEMPTS = 3;
const UNRESOLVED_LISTED = 100;

/**
 * `ferry sync` (DESIGN.md runtime rule 2): find every entity that differs between MongoDB
 * (the primary) and PostgreSQL with the deep-verify buckets (`findDrift`), and bring exactly
 * those in step with `copyEntitiesToPostgres`, which deletes from PostgreSQL what MongoDB no
 * longer has. Safe while the application writes, with the write path's per-entity lock:
 * - each entity is first written as the scan read it from MongoDB, under its lock, unless
 *   PostgreSQL changed since the scan read it (`observedStates` says why that is safe); this
 *   spares a read of MongoDB per entity, which FerretDB serves only with a scan;
 * - then the written entities are compared in both stores, many at once; one still different
 *   is copied the write path's way, reading MongoDB under the lock, and compared again, up to
 *   3 times, and otherwise counted as skipped.
 *
 * Bounded in memory (the bucket sums, one narrowing group, the ids awaiting comparison) and
 * resumable: `ferry.sync_runs` records the scan's position once the entities found before it
 * are confirmed.
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const uri: string;
 * const result = await syncStores({ stores, source: await openMongoSource(uri) });
 * result.collections   // [{ collection: 'orders', checked: 100000, repaired: 12, deleted: 3, skipped: 0, … }]
 * if (!result.ok) process.exitCode = 1;
 */
export async function syncStores(options: SyncOptions): Promise<SyncResult> {
  const started = performance.now();
  const { stores } = options;
  const db = targetOf(stores.pg);
  const names = selectCollections(stores.plan, options.only);
  const dryRun = options.dryRun === true;
  if (!dryRun) await ensureFerryState(db);
  const run = dryRun
    ? undefined
    : await startSyncRun(db, {
        schema: stores.schema,
        only: names,
        ...(options.resume !== undefined && { resume: options.resume }),
      });

  const collections: CollectionSyncResult[] = [];
  for (const collection of names) {
    const recorded = run?.collections[collection];
    collections.push(await syncCollection(options, collection, run?.id, recorded));
  }
  const ok = collections.every((c) => c.ok);
  if (run !== undefined) await finishSyncRun(db, run.id, ok);
  return {
    ...(run !== undefined && { runId: run.id }),
    dryRun,
    schema: stores.schema,
    collections,
    ok,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * One collection, as a loop over the drift scan's events: `hashed` and `narrowed` move the
 * recorded position on; `drift` batches are gathered into repair steps of `REPAIR_BATCH`
 * entities, each repaired, checked and recorded before the scan reads on.
 */
async function syncCollection(
  options: SyncOptions,
  collection: string,
  runId: number | undefined,
  recorded: SyncProgress | undefined,
): Promise<CollectionSyncResult> {
  const started = performance.now();
  const { stores } = options;
  const db = targetOf(stores.pg);
  const unresolved: string[] = [];
  let progress: SyncProgress = recorded ?? {
    checked: 0,
    missing: 0,
    extra: 0,
    changed: 0,
    repaired: 0,
    deleted: 0,
    skipped: 0,
    finished: false,
  };
  const result = (): CollectionSyncResult => {
    const { position: _position, finished: _finished, ...counts } = progress;
    const drifted = counts.missing + counts.extra + counts.changed;
    return {
      collection,
      ...counts,
      unresolved,
      ok: options.dryRun === true ? drifted === 0 : counts.skipped === 0,
      seconds: (performance.now() - started) / 1000,
    };
  };
  if (progress.finished) return result();
  const save = async () => {
    if (runId !== undefined) await recordSyncProgress(db, runId, collection, progress);
  };

  // Found entities wait in `pending` until a repair step writes them from what the scan read
  // (`writeObserved`), then in `written` until one comparison of both stores confirms them
  // (`confirmWritten`): on FerretDB, which reads no `_id` by index, that comparison is a pass
  // over the collection, so it is made as rarely as memory allows. The scan's position moves
  // past a group of buckets only once its entities are confirmed, so a resumed run narrows
  // again whatever was not.
  let pending: ObservedDrift[] = [];
  let written: unknown[] = [];
  let narrowed: DriftPosition | undefined;
  const writePending = async () => {
    if (pending.length === 0) return;
    await writeObserved(options, collection, pending);
    written.push(...pending.map((d) => d.id));
    pending = [];
  };
  const confirmWritten = async () => {
    await writePending();
    if (written.length > 0) {
      const step = await confirm(options, collection, written);
      written = [];
      progress = {
        ...progress,
        repaired: progress.repaired + step.repaired,
        deleted: progress.deleted + step.deleted,
        skipped: progress.skipped + step.unresolved.length,
      };
      for (const id of step.unresolved)
        if (unresolved.length < UNRESOLVED_LISTED)
          unresolved.push(EJSON.stringify(id as never, { relaxed: false }));
    }
    if (narrowed !== undefined) progress = { ...progress, position: narrowed };
    narrowed = undefined;
    await save();
  };

  const events = findDrift({
    source: options.source,
    db,
    plan: stores.plan,
    collection,
    schema: stores.schema,
    ...(progress.position !== undefined && { resumeFrom: progress.position }),
    ...(options.maxTracked !== undefined && { maxTracked: options.maxTracked }),
    ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    ...(options.signal !== undefined && { signal: options.signal }),
    onProgress: (phase, documents) => options.onProgress?.({ collection, phase, documents }),
  });
  for await (const event of events) {
    switch (event.type) {
      case 'hashed':
        progress = { ...progress, checked: event.position.checked, position: event.position };
        await save();
        break;
      case 'drift':
        for (const drift of event.entities) {
          options.onDrift?.(collection, drift);
          progress = { ...progress, [drift.kind]: progress[drift.kind] + 1 };
          if (options.dryRun !== true) pending.push(drift);
        }
        if (pending.length >= REPAIR_BATCH) await writePending();
        if (written.length >= CONFIRM_BATCH) await confirmWritten();
        break;
      case 'narrowed':
        await writePending();
        narrowed = event.position;
        if (written.length === 0) await confirmWritten();
        break;
    }
  }
  await confirmWritten();
  progress = { ...progress, finished: true };
  await save();
  return result();
}

/** What one repair step did, judged by comparing the stores after the copy. */
interface RepairStep {
  readonly repaired: number;
  readonly deleted: number;
  readonly unresolved: readonly unknown[];
}

/**
 * Write each found entity as the scan read it from MongoDB (`observedStates`), under the
 * per-entity locks; entities PostgreSQL changed since the scan read it are left to `confirm`.
 * A copy that fails for some entities (`EntityCopyError`) leaves them different, so they take
 * the same path; any other failure (a store down) stops the sync.
 */
async function writeObserved(
  options: SyncOptions,
  collection: string,
  found: readonly ObservedDrift[],
): Promise<void> {
  const { stores, signal } = options;
  const states = observedStates(stores, collection, found);
  try {
    await copyEntitiesToPostgres(
      stores,
      collection,
      found.map((d) => d.id),
      { states, ...(signal && { signal }) },
    );
  } catch (error) {
    if (!(error instanceof EntityCopyError)) throw error;
  }
}

/**
 * Compare the written entities in both stores (one pass over the collection on FerretDB):
 * equal and present is repaired, equal and gone from both is deleted. Those still different
 * (a write in flight, a state left by `writeObserved`) are copied again the way the write path
 * copies, reading MongoDB under the lock, by `repair`.
 */
async function confirm(
  options: SyncOptions,
  collection: string,
  ids: readonly unknown[],
): Promise<RepairStep> {
  const { stores, signal } = options;
  const now = await compareEntities(stores, targetOf(stores.pg), collection, ids, {
    source: options.source,
    ...(signal && { signal }),
  });
  const again = now.differing.length > 0 ? await repair(options, collection, now.differing) : undefined;
  return {
    repaired: now.present.length + (again?.repaired ?? 0),
    deleted: now.absent.length + (again?.deleted ?? 0),
    unresolved: again?.unresolved ?? [],
  };
}

/**
 * Copy the entities the way the write path does, reading MongoDB under the lock, and check
 * that each took. Those still different are copied again after a short pause (a write in
 * flight in the application settles), then left as unresolved.
 */
async function repair(
  options: SyncOptions,
  collection: string,
  ids: readonly unknown[],
): Promise<RepairStep> {
  const { stores, signal } = options;
  const db = targetOf(stores.pg);
  let repaired = 0;
  let deleted = 0;
  let remaining = ids;
  for (let attempt = 1; attempt <= REPAIR_ATTEMPTS && remaining.length > 0; attempt++) {
    if (attempt > 1) await sleep(100 * attempt, undefined, signal ? { signal } : {});
    try {
      await copyEntitiesToPostgres(stores, collection, remaining, signal ? { signal } : {});
    } catch (error) {
      if (!(error instanceof EntityCopyError)) throw error;
    }
    const now = await compareEntities(stores, db, collection, remaining, signal ? { signal } : {});
    repaired += now.present.length;
    deleted += now.absent.length;
    remaining = now.differing;
  }
  return { repaired, deleted, unresolved: remaining };
}
