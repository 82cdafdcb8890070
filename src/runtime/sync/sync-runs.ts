import type { Queryable } from '../../target/target-database.js';
import type { DriftPosition } from './find-drift.js';

/**
 * `ferry sync`'s progress in `ferry.sync_runs` (state step "sync runs" in
 * src/target/ferry-state.ts): one row per run, and per collection its counts and the drift
 * scan's last position, committed after every repaired batch, so `--resume` continues a run
 * that crashed without hashing finished work again.
 */

/** One collection's progress in a run. */
export interface SyncProgress {
  /** Source documents compared by the hash pass. */
  readonly checked: number;
  /** Entities found differing, by kind. */
  readonly missing: number;
  readonly extra: number;
  readonly changed: number;
  /** Entities brought in step by a copy, by a delete, and those left as they were. */
  readonly repaired: number;
  readonly deleted: number;
  readonly skipped: number;
  /** Where the drift scan stands; absent until its hash pass is done. */
  readonly position?: DriftPosition;
  readonly finished: boolean;
}

/** A run as `ferry.sync_runs` holds it. */
export interface SyncRun {
  readonly id: number;
  readonly schema: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly ok: boolean | null;
  readonly collections: Readonly<Record<string, SyncProgress>>;
}

/**
 * Start a run, or with `resume` continue the latest unfinished run of the schema.
 *
 * @example
 * declare const db: TargetDatabase;
 * const run = await startSyncRun(db, { schema: 'public', resume: true });
 * run.collections.orders?.position   // where the scan of orders stopped
 */
export async function startSyncRun(
  db: Queryable,
  options: { schema: string; resume?: boolean; only?: readonly string[] },
): Promise<SyncRun> {
  if (options.resume === true) {
    const { rows } = await db.query<RunRow>(
      `select ${RUN_COLUMNS} from ferry.sync_runs
        where schema = $1 and finished_at is null order by id desc limit 1`,
      [options.schema],
    );
    if (rows[0] !== undefined) return fromRow(rows[0]);
  }
  const { rows } = await db.query<RunRow>(
    `insert into ferry.sync_runs (schema, options) values ($1, $2) returning ${RUN_COLUMNS}`,
    [options.schema, JSON.stringify({ only: options.only ?? [] })],
  );
  return fromRow(rows[0]!);
}

/**
 * Store one collection's progress, committed on its own so a crash later keeps it.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const run: SyncRun;
 * declare const progress: SyncProgress;
 * await recordSyncProgress(db, run.id, 'orders', { ...progress, repaired: progress.repaired + 10 });
 */
export async function recordSyncProgress(
  db: Queryable,
  runId: number,
  collection: string,
  progress: SyncProgress,
): Promise<void> {
  await db.query(
    `update ferry.sync_runs set progress = jsonb_set(progress, array[$2::text], $3::jsonb), updated_at = now()
      where id = $1`,
    [runId, collection, JSON.stringify(progress)],
  );
}

/**
 * Mark a run finished with its verdict: whether the stores ended equal for its collections.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const run: SyncRun;
 * await finishSyncRun(db, run.id, true);
 */
export async function finishSyncRun(db: Queryable, runId: number, ok: boolean): Promise<void> {
  await db.query(
    'update ferry.sync_runs set finished_at = now(), updated_at = now(), ok = $2 where id = $1',
    [runId, ok],
  );
}

/**
 * The latest finished run (of `schema`, or of any), for `ferry status`; undefined when there
 * is none or no state yet.
 *
 * @example
 * declare const db: TargetDatabase;
 * const last = await lastSyncRun(db);
 * last?.finishedAt   // '2026-12-05 17:02:11.5+00'
 */
export async function lastSyncRun(db: Queryable, schema?: string): Promise<SyncRun | undefined> {
  const exists = await db.query<{ t: string | null }>(`select to_regclass('ferry.sync_runs')::text as t`);
  if (exists.rows[0]?.t == null) return undefined;
  const { rows } = await db.query<RunRow>(
    `select ${RUN_COLUMNS} from ferry.sync_runs
      where finished_at is not null and ($1::text is null or schema = $1) order by id desc limit 1`,
    [schema ?? null],
  );
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

const RUN_COLUMNS = `id::int as id, schema, started_at::text as started_at,
  finished_at::text as finished_at, ok, progress::text as progress`;

interface RunRow {
  id: number;
  schema: string;
  started_at: string;
  finished_at: string | null;
  ok: boolean | null;
  progress: string;
}

function fromRow(row: RunRow): SyncRun {
  return {
    id: row.id,
    schema: row.schema,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    ok: row.ok,
    collections: JSON.parse(row.progress) as Record<string, SyncProgress>,
  };
}
