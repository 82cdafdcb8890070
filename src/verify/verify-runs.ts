import { ensureFerryState } from '../target/ferry-state.js';
import type { Queryable, TargetDatabase } from '../target/target-database.js';
import type { CollectionVerifyResult, VerifyLevel, VerifyResult, VerifyVerdict } from './types.js';
import { verifyVerdict } from './verdict.js';

/**
 * A run as `ferry.verify_runs` holds it.
 *
 * @example
 * declare const db: TargetDatabase;
 * const run = await lastVerifyRun(db, 'public');
 * if (run?.finishedAt === null) console.log('unfinished; resume with ferry verify --resume');
 */
export interface VerifyRun {
  readonly id: number;
  readonly schema: string;
  readonly level: VerifyLevel;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly ok: boolean | null;
  /** A finished run's verdict (see `VerifyVerdict`); undefined while it is unfinished. */
  readonly verdict?: VerifyVerdict;
  /** Open rejects the finished collections counted: accounted for, not loaded. */
  readonly rejected: number;
  /** The run accepted its rejects (`--accept-rejects`). */
  readonly acceptRejects: boolean;
  /** Finished collections' results, by collection. */
  readonly collections: Readonly<Record<string, CollectionVerifyResult>>;
}

/**
 * Create or upgrade schema `ferry`, which holds `ferry.verify_runs`, on the target.
 *
 * @example
 * declare const db: TargetDatabase;
 * await ensureVerifyState(db);
 */
export async function ensureVerifyState(db: TargetDatabase): Promise<void> {
  await ensureFerryState(db);
}

/**
 * Start a run, or with `resume` continue the latest unfinished run of the same schema and
 * level, so collections it finished are not verified again.
 *
 * @example
 * declare const db: TargetDatabase;
 * const run = await startVerifyRun(db, { schema: 'public', level: 'deep', resume: true });
 * run.collections.orders   // a finished collection's result, or undefined
 */
export async function startVerifyRun(
  db: Queryable,
  options: { schema: string; level: VerifyLevel; resume?: boolean; options?: Record<string, unknown> },
): Promise<VerifyRun> {
  if (options.resume === true) {
    const { rows } = await db.query<RunRow>(
      `select ${RUN_COLUMNS} from ferry.verify_runs
        where schema = $1 and level = $2 and finished_at is null order by id desc limit 1`,
      [options.schema, options.level],
    );
    if (rows[0] !== undefined) return fromRow(rows[0]);
  }
  const { rows } = await db.query<RunRow>(
    `insert into ferry.verify_runs (schema, level, options) values ($1, $2, $3) returning ${RUN_COLUMNS}`,
    [options.schema, options.level, JSON.stringify(options.options ?? {})],
  );
  return fromRow(rows[0]!);
}

/**
 * Store one finished collection's result in its run, committed on its own so a crash later
 * keeps it. Field values are stripped: the state table is no place for row data.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const run: VerifyRun;
 * declare const result: CollectionVerifyResult;
 * await recordCollection(db, run.id, result);
 */
export async function recordCollection(
  db: Queryable,
  runId: number,
  result: CollectionVerifyResult,
): Promise<void> {
  const stored = {
    ...result,
    differences: result.differences.map((d) =>
      d.fields === undefined ? d : { ...d, fields: d.fields.map(({ path, kind }) => ({ path, kind })) },
    ),
  };
  await db.query(
    `update ferry.verify_runs set results = jsonb_set(results, array[$2::text], $3::jsonb) where id = $1`,
    [runId, result.collection, JSON.stringify(stored)],
  );
}

/**
 * Mark a run finished with its verdict.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const run: VerifyRun;
 * declare const result: VerifyResult;
 * await finishVerifyRun(db, run.id, result);
 */
export async function finishVerifyRun(db: Queryable, runId: number, result: VerifyResult): Promise<void> {
  await db.query(
    `update ferry.verify_runs set finished_at = now(), ok = $2,
            summary = $3::jsonb where id = $1`,
    [
      runId,
      result.ok,
      JSON.stringify({
        verdict: result.verdict,
        acceptRejects: result.acceptRejects,
        reconciliation: result.reconciliation,
        indexes: result.indexes,
        seconds: result.seconds,
      }),
    ],
  );
}

/**
 * The latest finished run, for `ferry status`; undefined when there is none (or no state yet).
 *
 * @example
 * declare const db: TargetDatabase;
 * const last = await lastVerifyRun(db);
 * last?.ok   // true
 */
export async function lastVerifyRun(db: Queryable, schema?: string): Promise<VerifyRun | undefined> {
  const exists = await db.query<{ t: string | null }>(`select to_regclass('ferry.verify_runs')::text as t`);
  if (exists.rows[0]?.t == null) return undefined;
  const { rows } = await db.query<RunRow>(
    `select ${RUN_COLUMNS} from ferry.verify_runs
      where finished_at is not null and ($1::text is null or schema = $1) order by id desc limit 1`,
    [schema ?? null],
  );
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

const RUN_COLUMNS = `id::int as id, schema, level, started_at::text as started_at,
  finished_at::text as finished_at, ok, results::text as results, summary::text as summary`;

interface RunRow {
  id: number;
  schema: string;
  level: VerifyLevel;
  started_at: string;
  finished_at: string | null;
  ok: boolean | null;
  results: string;
  summary: string | null;
}

function fromRow(row: RunRow): VerifyRun {
  const collections = JSON.parse(row.results) as Record<string, CollectionVerifyResult>;
  const summary = (row.summary === null ? {} : JSON.parse(row.summary)) as {
    verdict?: VerifyVerdict;
    acceptRejects?: boolean;
    reconciliation?: readonly { status: string }[];
  };
  // Runs recorded before verdicts were stored get theirs from the collection results.
  const derived = verifyVerdict(
    Object.values(collections),
    (summary.reconciliation ?? []).some((r) => r.status === 'mismatch'),
  );
  return {
    id: row.id,
    schema: row.schema,
    level: row.level,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    ok: row.ok,
    ...(row.finished_at !== null && { verdict: summary.verdict ?? derived.verdict }),
    rejected: derived.rejected,
    acceptRejects: summary.acceptRejects ?? false,
    collections,
  };
}
