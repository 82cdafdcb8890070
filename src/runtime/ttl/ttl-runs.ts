import type { Queryable } from '../../target/target-database.js';

/**
 * `ferry ttl run`'s record in `ferry.ttl_runs` (state step 16 "ttl runs" in
 * src/target/ferry-state.ts): one row per run and schema, with each rule's rows removed and
 * batches, updated after every rule, so a run that was stopped still says what it removed.
 */

/**
 * What one TTL rule removed in a run.
 *
 * @example
 * declare const run: TtlRun;
 * for (const rule of run.rules) console.log(`${rule.collection}: ${rule.removed} in ${rule.batches} batches`);
 */
export interface TtlRuleOutcome {
  readonly collection: string;
  readonly table: string;
  readonly column: string;
  readonly seconds: number;
  /** The MongoDB TTL index the rule comes from. */
  readonly source: string;
  /** Root rows deleted (their child rows went with them through the parent keys' cascade). */
  readonly removed: number;
  /** Delete statements run, each its own short transaction. */
  readonly batches: number;
}

/**
 * One TTL run of one schema, as `ferry.ttl_runs` holds it.
 *
 * @example
 * declare const db: TargetDatabase;
 * const run: TtlRun | undefined = await lastTtlRun(db, 'public');
 * if (run) console.log(`run ${run.id}: ${run.removed} rows removed in ${run.batches} batches`);
 */
export interface TtlRun {
  readonly id: number;
  readonly schema: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The moment expiry was measured against: a row expired when its date + seconds < cutoff. */
  readonly cutoff: string;
  readonly removed: number;
  readonly batches: number;
  readonly rules: readonly TtlRuleOutcome[];
  /** True when every rule ran to the end, false when one failed; null while running. */
  readonly ok: boolean | null;
  readonly error: string | null;
}

interface RunRow {
  id: string;
  schema: string;
  started_at: string;
  finished_at: string | null;
  cutoff: string;
  removed: string;
  batches: number;
  rules: string;
  ok: boolean | null;
  error: string | null;
}

const RUN_COLUMNS =
  'id::text, schema, started_at::text, finished_at::text, cutoff::text, removed::text, batches, rules::text, ok, error';

function fromRow(row: RunRow): TtlRun {
  return {
    id: Number(row.id),
    schema: row.schema,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    cutoff: row.cutoff,
    removed: Number(row.removed),
    batches: row.batches,
    // As text: Ferry's targets leave jsonb unparsed (its numbers may exceed a double).
    rules: JSON.parse(row.rules) as TtlRuleOutcome[],
    ok: row.ok,
    error: row.error,
  };
}

/**
 * Record the start of a run; the cutoff is the database's clock now, so every process that
 * runs TTL rules agrees on what "expired" means whatever its own clock says.
 *
 * @example
 * declare const db: TargetDatabase;
 * const run = await startTtlRun(db, 'public');
 * run.cutoff   // '2026-12-05 19:20:00.123+00'
 */
export async function startTtlRun(db: Queryable, schema: string): Promise<TtlRun> {
  const { rows } = await db.query<RunRow>(
    `insert into ferry.ttl_runs (schema, cutoff) values ($1, now()) returning ${RUN_COLUMNS}`,
    [schema],
  );
  return fromRow(rows[0]!);
}

/**
 * Store the rules' outcomes so far; with `finished`, close the run with its verdict.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const run: TtlRun;
 * await recordTtlProgress(db, run.id, run.rules, { ok: true });
 */
export async function recordTtlProgress(
  db: Queryable,
  id: number,
  rules: readonly TtlRuleOutcome[],
  finished?: { readonly ok: boolean; readonly error?: string },
): Promise<void> {
  const removed = rules.reduce((n, r) => n + r.removed, 0);
  const batches = rules.reduce((n, r) => n + r.batches, 0);
  await db.query(
    `update ferry.ttl_runs set rules = $2::jsonb, removed = $3, batches = $4,
            finished_at = case when $5::boolean is null then null else now() end, ok = $5, error = $6
      where id = $1`,
    [id, JSON.stringify(rules), removed, batches, finished?.ok ?? null, finished?.error ?? null],
  );
}

/**
 * The latest TTL run of a schema, finished or not; undefined when TTL never ran there (or the
 * state schema has no `ttl_runs` yet: nothing is created by asking).
 *
 * @example
 * declare const db: TargetDatabase;
 * const last = await lastTtlRun(db, 'public');
 * console.log(last?.removed ?? 'never ran');
 */
export async function lastTtlRun(db: Queryable, schema: string): Promise<TtlRun | undefined> {
  const { rows: has } = await db.query<{ present: boolean }>(
    `select to_regclass('ferry.ttl_runs') is not null as present`,
  );
  if (has[0]?.present !== true) return undefined;
  const { rows } = await db.query<RunRow>(
    `select ${RUN_COLUMNS} from ferry.ttl_runs where schema = $1 order by id desc limit 1`,
    [schema],
  );
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}
