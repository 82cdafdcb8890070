import { setTimeout as sleep } from 'node:timers/promises';
import { copyEntitiesToPostgres, EntityCopyError, type RuntimeStores } from './entity-copy.js';
import { bumpGaps, closeGaps, moveMongoGaps, type OpenGap, openGaps } from './gaps.js';
import { targetOf } from './stores.js';

/**
 * `ferry reconcile`: close the recorded gaps. Each gapped entity's CURRENT state is copied from
 * MongoDB with the entity copier (under its per-entity lock, so it races safely with the live
 * write path), which also deletes from PostgreSQL an entity MongoDB no longer has; then its
 * gap is closed, unless a newer failure was recorded on it meanwhile (it stays open for the
 * next pass). Gaps that MongoDB kept while PostgreSQL was down are moved in first.
 */

/**
 * What one pass did.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const { moved, seen, closed, open }: ReconcileSummary = await reconcileGaps(stores);
 * console.log(`${moved} moved from MongoDB; ${closed} of ${seen} closed, ${open} still open`);
 */
export interface ReconcileSummary {
  /** Gaps moved from MongoDB's `ferry_gaps` into `ferry.gaps`. */
  readonly moved: number;
  /** Open gaps this pass looked at. */
  readonly seen: number;
  readonly closed: number;
  /** Gaps still open after the pass (their copy failed again, or a newer failure arrived). */
  readonly open: number;
  /** The copier's counts over the pass. */
  readonly upserted: number;
  readonly deleted: number;
  readonly rejected: number;
}

/**
 * Options of a reconcile pass (`reconcileGaps`, `watchGaps`).
 *
 * @example
 * declare const stores: RuntimeStores;
 * const options: ReconcileOptions = { batchSize: 50, signal: AbortSignal.timeout(60_000) };
 * await reconcileGaps(stores, options);
 */
export interface ReconcileOptions {
  readonly signal?: AbortSignal;
  /** Gaps per copy (one transaction per batch of entities). Default 200. */
  readonly batchSize?: number;
  /** Only the gaps of these collections (a domain's, for the primary flip); default every one. */
  readonly only?: readonly string[];
}

/**
 * One pass over every open gap of the stores' schema.
 *
 * @example
 * import type { MongoClient } from 'mongodb';
 * import type pg from 'pg';
 * declare const client: MongoClient;
 * declare const pool: pg.Pool;
 * declare const plan: Plan;
 * const summary = await reconcileGaps({ mongo: client.db('shop'), pg: pool, plan, schema: 'public' });
 * console.log(`${summary.closed} closed, ${summary.open} still open`);
 */
export async function reconcileGaps(
  stores: RuntimeStores,
  options: ReconcileOptions = {},
): Promise<ReconcileSummary> {
  const db = targetOf(stores.pg);
  const moved = await moveMongoGaps(stores);
  const batchSize = Math.max(1, options.batchSize ?? 200);
  const mapped = new Set(stores.plan.collections.map((c) => c.name));
  let seen = 0;
  let closed = 0;
  let upserted = 0;
  let deleted = 0;
  let rejected = 0;
  for (const only of options.only ?? [undefined]) {
    let afterId = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const gaps = await openGaps(db, stores.schema, {
        afterId,
        limit: batchSize,
        ...(only !== undefined && { collection: only }),
      });
      if (gaps.length === 0) break;
      afterId = gaps[gaps.length - 1]!.id;
      seen += gaps.length;
      for (const [collection, group] of byCollection(gaps)) {
        if (!mapped.has(collection)) {
          await bumpGaps(db, group, new Error(`the mapping has no collection ${collection}`));
          continue;
        }
        try {
          const outcome = await copyEntitiesToPostgres(
            stores,
            collection,
            group.map((g) => g.entityId),
            options.signal ? { signal: options.signal } : {},
          );
          upserted += outcome.upserted;
          deleted += outcome.deleted;
          rejected += outcome.rejected;
          closed += await closeGaps(db, group);
        } catch (error) {
          if (!(error instanceof EntityCopyError)) {
            await bumpGaps(db, group, error);
            continue;
          }
          upserted += error.outcome.upserted;
          deleted += error.outcome.deleted;
          rejected += error.outcome.rejected;
          const failed = new Set(error.failures.map((f) => f.id));
          closed += await closeGaps(
            db,
            group.filter((g) => !failed.has(g.entityId)),
          );
          for (const failure of error.failures)
            await bumpGaps(
              db,
              group.filter((g) => g.entityId === failure.id),
              failure.error,
            );
        }
      }
    }
  }
  const { rows } = await db.query<{ n: string }>(
    `select count(*) as n from ferry.gaps
      where schema = $1 and closed_at is null and ($2::text[] is null or collection = any($2))`,
    [stores.schema, options.only ?? null],
  );
  return { moved, seen, closed, open: Number(rows[0]?.n ?? 0), upserted, deleted, rejected };
}

/**
 * `ferry reconcile --watch`: a pass every `intervalMs` until `signal` aborts. A pass that
 * fails (PostgreSQL or MongoDB unreachable) is reported through `onPass` and tried again at
 * the next interval; the worker keeps running.
 *
 * @example
 * declare const stores: RuntimeStores;
 * declare const log: { info(pass: unknown): void };
 * const stop = new AbortController();
 * process.on('SIGTERM', () => stop.abort());
 * await watchGaps(stores, { intervalMs: 5000, signal: stop.signal, onPass: (r) => log.info(r) });
 */
export async function watchGaps(
  stores: RuntimeStores,
  options: ReconcileOptions & {
    readonly intervalMs?: number;
    readonly onPass?: (result: { summary?: ReconcileSummary; error?: unknown }) => void;
  },
): Promise<void> {
  const intervalMs = options.intervalMs ?? 5000;
  const stopped = () => options.signal?.aborted === true;
  while (!stopped()) {
    try {
      options.onPass?.({ summary: await reconcileGaps(stores, options) });
    } catch (error) {
      if (stopped()) return;
      options.onPass?.({ error });
    }
    await sleep(intervalMs, undefined, options.signal ? { signal: options.signal } : undefined).catch(
      () => {},
    );
  }
}

function byCollection(gaps: readonly OpenGap[]): Map<string, OpenGap[]> {
  const out = new Map<string, OpenGap[]>();
  for (const gap of gaps) {
    const group = out.get(gap.collection);
    if (group === undefined) out.set(gap.collection, [gap]);
    else group.push(gap);
  }
  return out;
}
