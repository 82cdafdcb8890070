import { createHash } from 'node:crypto';
import type { Document } from 'bson';
import type { Db } from 'mongodb';
import type pg from 'pg';
import { FerryError } from '../core/errors.js';
import { idText, type RejectRecord, rejectFromLoad, rejectFromMapping } from '../load/reject-record.js';
import { insertRejects } from '../load/state-store.js';
import { isRowFailure } from '../load/write-chunk.js';
import { canonicalBytes } from '../mapping/canonical/index.js';
import { encodeColumn, MISMATCH } from '../mapping/column-codec.js';
import { type CompiledCollection, compiledCollection } from '../mapping/compile.js';
import type { Plan } from '../mapping/model.js';
import { RejectSignal } from '../mapping/reject.js';
import type { DocumentRows, RowValue } from '../mapping/row-values.js';
import { toRows } from '../mapping/to-rows.js';
import { findByIds } from '../sources/mongodb/find-by-ids.js';
import { errorCode } from '../target/retry.js';
import type { Queryable } from '../target/target-database.js';
import { guardEntities } from './entity-guards.js';
import { entityTables, type SqlPiece, writeEntityRows, writeEntityRowsAndCommit } from './entity-rows.js';
import { withTransientRetry } from './retry-policy.js';
import { lockedTransaction } from './stores.js';

/**
 * The entity copier (DESIGN.md runtime rule 1, "state transfer, not operation replay"): the
 * write path, `ferry reconcile` and `ferry sync` all bring PostgreSQL to the primary's current
 * state of an entity through this one function, never by translating `$inc` or `$push`.
 */

/**
 * The two stores and the mapping between them, as the runtime uses them.
 *
 * @example
 * import type { MongoClient } from 'mongodb';
 * import type pg from 'pg';
 * declare const client: MongoClient;
 * declare const pool: pg.Pool;
 * declare const plan: Plan;
 * const stores: RuntimeStores = { mongo: client.db('shop'), pg: pool, plan, schema: 'public' };
 */
export interface RuntimeStores {
  /** The primary, in phases `mongo` … `pg_read`. */
  readonly mongo: Db;
  /** The secondary. */
  readonly pg: pg.Pool;
  /** The reviewed mapping (src/mapping/model.ts). */
  readonly plan: Plan;
  /** Target schema of the mapped tables, e.g. 'public'. */
  readonly schema: string;
}

/**
 * What one copy did: entities written, entities deleted (gone from MongoDB), documents rejected.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const stores: RuntimeStores;
 * declare const id: ObjectId;
 * const { upserted, deleted, rejected }: CopyOutcome = await copyEntitiesToPostgres(stores, 'orders', [id]);
 */
export interface CopyOutcome {
  readonly upserted: number;
  readonly deleted: number;
  readonly rejected: number;
}

/**
 * Where a copy takes its entities' states from, called under their locks: by default the
 * primary, read there and then. `docs` by `entityLockKey` (an entity without one is gone from
 * the primary); entities in `leave` are not touched. `ferry sync` passes the states its scan
 * already read, and leaves the entities PostgreSQL changed since (src/runtime/sync/observed-states.ts).
 *
 * @example
 * import type { Document } from 'bson';
 * declare const seen: Map<string, Document>;
 * const states: EntityStates = async () => ({ docs: seen, leave: new Set() });
 */
export type EntityStates = (
  tx: Queryable,
  batch: readonly BatchId[],
) => Promise<{ readonly docs: ReadonlyMap<string, Document>; readonly leave: ReadonlySet<string> }>;

/** How `copyEntitiesToPostgres` runs (see there). */
export interface CopyOptions {
  readonly signal?: AbortSignal;
  readonly written?: PromiseLike<boolean>;
  readonly states?: EntityStates;
}

const NONE: ReadonlySet<string> = new Set();

/** Entities per transaction: enough to amortise the round trips, few enough to hold locks briefly. */
const BATCH_SIZE = 200;

/**
 * Copy the primary's CURRENT state of each entity to PostgreSQL through `toRows`, each under
 * its per-entity lock (`pg_advisory_xact_lock` on `entityLockKey(collection, id)`), in one
 * transaction per batch: read the documents from MongoDB while holding the locks, delete the
 * entities' child rows (nested children cascade), upsert the root rows, insert the new child
 * rows; an id no longer in MongoDB is deleted from PostgreSQL. Because the read happens under
 * the lock, two copies of one entity serialise and the later one always carries the later
 * state. Root rows are upserted rather than deleted and inserted, so foreign keys from other
 * collections that point at an entity never see it vanish.
 *
 * A document the mapping rejects, or whose rows PostgreSQL refuses (a CHECK, a unique index),
 * goes to `ferry.rejects` and counts as rejected; its stale rows are removed, and an older
 * open reject of the same entity is resolved, so `ferry.rejects` holds only current verdicts.
 * `written`: the primary's write, which may still be running: the locks are taken at once,
 * and the read waits for it (resolving false: the write never reached the server, and
 * nothing is copied). The write path uses it to take the locks while MongoDB writes.
 * `states`: take the states from there instead of reading the primary (`EntityStates`).
 *
 * Transient failures (a deadlock, a lost connection, a MongoDB network error) are retried;
 * whatever still fails is thrown (an `ENTITY_COPY_FAILED` FerryError when only some entities
 * failed, naming how many). Idempotent: copying twice writes the same rows.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * import type { MongoClient } from 'mongodb';
 * import type pg from 'pg';
 * declare const client: MongoClient;
 * declare const pool: pg.Pool;
 * declare const plan: Plan;
 * declare const orderId: ObjectId;
 * const stores = { mongo: client.db('shop'), pg: pool, plan, schema: 'public' };
 * const outcome = await copyEntitiesToPostgres(stores, 'orders', [orderId]);
 * // { upserted: 1, deleted: 0, rejected: 0 }
 */
export async function copyEntitiesToPostgres(
  stores: RuntimeStores,
  collection: string,
  ids: readonly unknown[],
  options: CopyOptions = {},
): Promise<CopyOutcome> {
  const compiled = compiledCollection(stores.plan, collection);
  const unique = uniqueIds(collection, ids);
  let upserted = 0;
  let deleted = 0;
  let rejected = 0;
  const failed: BatchFailure[] = [];
  for (let i = 0; i < unique.length; i += BATCH_SIZE) {
    const batch = unique.slice(i, i + BATCH_SIZE);
    const retry = { ...(options.signal && { signal: options.signal }) };
    const run = (isolate: boolean) =>
      withTransientRetry(() => copyBatch(stores, compiled, batch, isolate, options), retry);
    // The whole batch in one go first; only when a row fails is it redone entity by entity
    // under savepoints, so the usual case pays no savepoint round trips.
    const outcome = await run(false).catch((error: unknown) => {
      if (!isRowFailure(error)) throw error;
      return run(true);
    });
    upserted += outcome.upserted;
    deleted += outcome.deleted;
    rejected += outcome.rejected;
    failed.push(...outcome.failed);
  }
  if (failed.length > 0) throw new EntityCopyError(collection, failed, { upserted, deleted, rejected });
  return { upserted, deleted, rejected };
}

/** An entity the copier could not bring in step, with why. */
export interface BatchFailure {
  readonly id: unknown;
  readonly error: unknown;
}

/**
 * Some entities could not be copied (a delete that a foreign key from another collection
 * refuses, say); the others were. `failures` names them, `outcome` counts what was done.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const stores: RuntimeStores;
 * declare const ids: ObjectId[];
 * try {
 *   await copyEntitiesToPostgres(stores, 'orders', ids);
 * } catch (error) {
 *   if (!(error instanceof EntityCopyError)) throw error;
 *   console.log(error.outcome.upserted, 'copied;', error.failures.length, 'failed, first:', error.failures[0]?.id);
 * }
 */
export class EntityCopyError extends FerryError {
  constructor(
    collection: string,
    readonly failures: readonly BatchFailure[],
    readonly outcome: CopyOutcome,
  ) {
    const first = failures[0]?.error;
    const reason = first instanceof Error ? first.message : String(first);
    super(`${failures.length} entit${failures.length === 1 ? 'y' : 'ies'} could not be copied: ${reason}`, {
      code: 'ENTITY_COPY_FAILED',
      category: 'problem',
      cause: first,
      where: { collection },
      hint: 'the entities stay recorded as gaps; `ferry reconcile` copies them again',
    });
  }
}

/**
 * The advisory lock key of one entity: 64 bits of SHA-256 over the collection name and the
 * `_id`'s canonical bytes, as a signed bigint in decimal (what `pg_advisory_xact_lock(bigint)`
 * takes). Canonical, so an Int32 id 5 and a Double id 5.0, one entity to MongoDB, share a lock.
 * Everything that copies entities (the write path, reconcile, sync) locks with this key.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const tx: TargetTransaction;
 * declare const id: ObjectId;
 * await tx.query('select pg_advisory_xact_lock($1::bigint)', [entityLockKey('orders', id)]);
 */
export function entityLockKey(collection: string, id: unknown): string {
  const digest = createHash('sha256').update(collection).update('\u0000').update(canonicalBytes(id)).digest();
  return digest.readBigInt64BE(0).toString();
}

/** One entity of a copy batch: its `_id` and its `entityLockKey`, computed once. */
export interface BatchId {
  readonly id: unknown;
  readonly lock: string;
}

/** One of each entity, by lock key (which is canonical), in lock order so lockers never deadlock. */
function uniqueIds(collection: string, ids: readonly unknown[]): BatchId[] {
  const byLock = new Map<string, BatchId>();
  for (const id of ids) {
    if (id === undefined) continue;
    const lock = entityLockKey(collection, id);
    if (!byLock.has(lock)) byLock.set(lock, { id, lock });
  }
  return [...byLock.values()].sort((a, b) => (BigInt(a.lock) < BigInt(b.lock) ? -1 : 1));
}

/** What the copier decided for one entity. */
type Entity =
  | {
      readonly kind: 'write';
      readonly id: unknown;
      readonly key: RowValue;
      readonly doc: Document;
      readonly rows: DocumentRows;
    }
  | {
      readonly kind: 'reject';
      readonly id: unknown;
      readonly key: RowValue | undefined;
      readonly reject: RejectRecord;
    }
  | { readonly kind: 'gone'; readonly id: unknown; readonly key: RowValue | undefined };

interface BatchOutcome extends CopyOutcome {
  readonly failed: readonly BatchFailure[];
}

async function copyBatch(
  stores: RuntimeStores,
  compiled: CompiledCollection,
  batch: readonly BatchId[],
  isolate: boolean,
  options: CopyOptions,
): Promise<BatchOutcome> {
  const tables = entityTables(stores.plan, compiled.name, stores.schema);
  // Locks first, in key order; then the read, so what is copied is at least as new as
  // anything a copier that held these locks before us wrote.
  return lockedTransaction(
    stores.pg,
    batch.map((b) => b.lock),
    async (tx) => {
      // The primary's write may still be running (the mirror took the locks meanwhile): the
      // read must come after it. A write that never reached the server copies nothing.
      if (options.written !== undefined && !(await options.written))
        return { upserted: 0, deleted: 0, rejected: 0, failed: [] };
      const read =
        options.states === undefined
          ? { docs: await readPrimary(stores.mongo, compiled.name, batch, options.signal), leave: NONE }
          : await options.states(tx, batch);
      const kept = batch.filter((b) => !read.leave.has(b.lock));
      const decided = kept.map((b) => decide(stores.plan, compiled, b, read.docs.get(b.lock)));
      // The mapping's version and appendOnly promises: refused entities are not written.
      const collectionPlan = stores.plan.collections.find((c) => c.name === compiled.name)!;
      const guarded = await guardEntities(tx, stores, collectionPlan, tables, decided);
      const entities = guarded.allowed;
      const rejects: RejectRecord[] = [];
      const failed: BatchFailure[] = [...guarded.refused];
      let deleted = 0;
      const resolve = resolveRejects(stores.schema, compiled.name, kept);
      for (const entity of entities) if (entity.kind === 'reject') rejects.push(entity.reject);
      if (!isolate && rejects.length === 0) {
        // The usual copy: its rows and the COMMIT in one round trip (two fewer than before,
        // on every mirrored write); the locks above are held until that COMMIT, so the read
        // stays under them (rule 1). Undefined when a value cannot go as a literal.
        const finished = await writeEntityRowsAndCommit(tx, tables, entities, [resolve]);
        const written = entities.filter((e) => e.kind === 'write').length;
        if (finished !== undefined)
          return { upserted: written + guarded.unchanged, deleted: finished, rejected: 0, failed };
      }
      if (!isolate) {
        deleted = await writeEntityRows(tx, tables, entities, [resolve]);
      } else {
        await tx.query(
          resolve.render((i) => `$${i + 1}`),
          resolve.params,
        );
        for (const entity of entities) {
          const failure = await underSavepoint(tx, () => writeEntityRows(tx, tables, [entity]));
          if (typeof failure === 'number') {
            deleted += failure;
            continue;
          }
          if (entity.kind !== 'write') {
            failed.push({ id: entity.id, error: failure.error });
            continue;
          }
          // PostgreSQL refused this document's rows: a load reject, and its stale rows go.
          const code = errorCode(failure.error) ?? '';
          const kind = code.startsWith('23')
            ? 'LOAD_CONSTRAINT_VIOLATION'
            : code.startsWith('22')
              ? 'LOAD_BAD_VALUE'
              : 'LOAD_TOO_LARGE';
          const reason = failure.error instanceof Error ? failure.error.message : String(failure.error);
          rejects.push(rejectFromLoad(entity.doc, kind, reason));
          const removal = await underSavepoint(tx, () =>
            writeEntityRows(tx, tables, [
              { kind: 'reject', id: entity.id, key: entity.key, reject: rejects.at(-1)! },
            ]),
          );
          if (typeof removal !== 'number') failed.push({ id: entity.id, error: removal.error });
        }
      }
      await insertRejects(tx, undefined, stores.schema, compiled.name, rejects);
      const written = entities.filter((e) => e.kind === 'write').length;
      const loadRejects = rejects.filter((r) => r.stage === 'load').length;
      return {
        upserted: written - loadRejects + guarded.unchanged,
        deleted,
        rejected: rejects.length,
        failed,
      };
    },
  );
}

/** Run `fn` under a savepoint: its result, or the row failure it rolled back. */
async function underSavepoint<T>(
  tx: Queryable,
  fn: () => Promise<T>,
): Promise<T | { readonly error: unknown }> {
  await tx.query('savepoint ferry_entity');
  try {
    const result = await fn();
    await tx.query('release savepoint ferry_entity');
    return result;
  } catch (error) {
    if (!isRowFailure(error)) throw error;
    await tx.query('rollback to savepoint ferry_entity');
    await tx.query('release savepoint ferry_entity');
    return { error };
  }
}

/** The batch's documents in MongoDB now, by lock key; absent ones are gone. */
async function readPrimary(
  mongo: Db,
  collection: string,
  batch: readonly BatchId[],
  signal: AbortSignal | undefined,
): Promise<Map<string, Document>> {
  const docs = await findByIds(
    mongo,
    collection,
    batch.map((b) => b.id),
    signal,
  );
  return new Map(docs.map((doc) => [entityLockKey(collection, doc._id), doc]));
}

function decide(plan: Plan, compiled: CompiledCollection, b: BatchId, doc: Document | undefined): Entity {
  const key = rootKey(compiled, b.id);
  if (doc === undefined) return { kind: 'gone', id: b.id, key };
  const result = toRows(plan, compiled.name, doc);
  if (!result.ok) return { kind: 'reject', id: b.id, key, reject: rejectFromMapping(doc, result.reject) };
  return { kind: 'write', id: b.id, key: key!, doc, rows: result.rows };
}

/** The root row's primary key value for an `_id`; undefined when no row can have it. */
export function rootKey(compiled: CompiledCollection, id: unknown): RowValue | undefined {
  try {
    const value = encodeColumn(compiled.root.id!, id, ['_id']);
    return value === MISMATCH || value === null ? undefined : value;
  } catch (error) {
    if (error instanceof RejectSignal) return undefined;
    throw error;
  }
}

/**
 * Every open reject of the batch's entities resolved: their state is being copied now, or
 * rejected anew (the new reject is added after), so `ferry.rejects` holds current verdicts only.
 */
function resolveRejects(schema: string, collection: string, batch: readonly BatchId[]): SqlPiece {
  const docIds = batch.map((b) => idText(b.id)).filter((text) => text !== null);
  return {
    params: [schema, collection, docIds],
    render: (ref) => `update ferry.rejects set resolved_at = now()
      where schema = ${ref(0)} and collection = ${ref(1)} and doc_id = any(${ref(2)}::text[]) and resolved_at is null`,
  };
}

export type { Entity };
