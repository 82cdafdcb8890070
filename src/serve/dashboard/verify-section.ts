import type { Queryable } from '../../target/target-database.js';
import type {
  CollectionVerifyResult,
  IndexParity,
  ReconcileResult,
  VerifyLevel,
  VerifyResult,
  VerifyVerdict,
} from '../../verify/types.js';
import { verifyVerdict } from '../../verify/verdict.js';
import { iso } from './backfill-section.js';

/**
 * Verification runs from `ferry.verify_runs`. The stored results keep each difference's `_id`,
 * field paths and kinds but never values (verify-runs.ts strips them), so the page and the
 * report it links to show no document data, whatever `--show-values` a run had.
 */

/** One difference as the page lists it: a row per differing field. */
export interface DifferenceRow {
  readonly collection: string;
  readonly kind: string;
  readonly id: string;
  /** The field path, '' for a whole-document difference (missing or extra). */
  readonly path: string;
  readonly fieldKind: string;
}

export interface VerifyRunView {
  readonly id: number;
  readonly schema: string;
  readonly level: VerifyLevel;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Undefined while the run is unfinished. */
  readonly verdict: VerifyVerdict | null;
  readonly ok: boolean | null;
  readonly collections: readonly {
    readonly collection: string;
    readonly sourceCount: number;
    readonly targetCount: number;
    readonly matched: number;
    readonly missing: number;
    readonly extra: number;
    readonly content: number;
    readonly rejected: number;
    readonly ok: boolean;
  }[];
  /** The first differences, at most `DIFFERENCES_SHOWN` rows. */
  readonly differences: readonly DifferenceRow[];
  /** Rows not shown here (the HTML report lists every stored one). */
  readonly moreDifferences: number;
  /** The page's link to the run's HTML report. */
  readonly reportUrl: string;
}

const RUNS_SHOWN = 8;
const DIFFERENCES_SHOWN = 50;

/**
 * The latest verification runs, newest first; empty when there is no state yet.
 *
 * @example
 * declare const db: TargetDatabase;
 * const [last] = await readVerifyRuns(db, '/api/dashboard');
 * last?.differences[0]   // { collection: 'orders', kind: 'content', id: '65a1…', path: 'qty', fieldKind: 'value' }
 */
export async function readVerifyRuns(db: Queryable, apiBase: string): Promise<readonly VerifyRunView[]> {
  const runs = await readStoredRuns(db, undefined, RUNS_SHOWN);
  return runs.map((run) => {
    const rows = run.collections.flatMap((c) =>
      c.differences.flatMap((d) =>
        (d.fields === undefined || d.fields.length === 0 ? [undefined] : d.fields).map(
          (f): DifferenceRow => ({
            collection: c.collection,
            kind: d.kind,
            id: d.id,
            path: f?.path ?? '',
            fieldKind: f?.kind ?? '',
          }),
        ),
      ),
    );
    return {
      id: run.runId!,
      schema: run.schema,
      level: run.level,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      verdict: run.finishedAt === null ? null : run.verdict,
      ok: run.finishedAt === null ? null : run.ok,
      collections: run.collections.map((c) => ({
        collection: c.collection,
        sourceCount: c.sourceCount,
        targetCount: c.targetCount,
        matched: c.matched,
        missing: c.missing,
        extra: c.extra,
        content: c.content,
        rejected: c.rejected,
        ok: c.ok,
      })),
      differences: rows.slice(0, DIFFERENCES_SHOWN),
      moreDifferences: Math.max(0, rows.length - DIFFERENCES_SHOWN),
      reportUrl: `${apiBase}/verify-runs/${run.runId}/report.html`,
    };
  });
}

/** A stored run as a `VerifyResult` (what the HTML report renders), with its times. */
export interface StoredVerifyRun extends VerifyResult {
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/**
 * One run by id, or the latest `limit` runs, rebuilt as the `VerifyResult` it recorded.
 *
 * @example
 * declare const db: TargetDatabase;
 * const [run] = await readStoredRuns(db, 7, 1);
 * if (run) console.log(renderVerifyHtml(run));
 */
export async function readStoredRuns(
  db: Queryable,
  id: number | undefined,
  limit: number,
): Promise<readonly StoredVerifyRun[]> {
  const { rows: has } = await db.query<{ t: boolean }>(
    `select to_regclass('ferry.verify_runs') is not null as t`,
  );
  if (!has[0]?.t) return [];
  const { rows } = await db.query<{
    id: number;
    schema: string;
    level: VerifyLevel;
    options: string;
    started_at: string;
    finished_at: string | null;
    ok: boolean | null;
    results: string;
    summary: string | null;
  }>(
    `select id::int as id, schema, level, options::text as options, ${iso('started_at')} as started_at,
            ${iso('finished_at')} as finished_at, ok, results::text as results, summary::text as summary
       from ferry.verify_runs where ($1::bigint is null or id = $1) order by id desc limit ${limit}`,
    [id ?? null],
  );
  return rows.map((row) => {
    const collections = Object.values(JSON.parse(row.results) as Record<string, CollectionVerifyResult>);
    const options = JSON.parse(row.options) as { fraction?: number; seed?: number };
    const summary = (row.summary === null ? {} : JSON.parse(row.summary)) as {
      verdict?: VerifyVerdict;
      acceptRejects?: boolean;
      reconciliation?: readonly ReconcileResult[];
      indexes?: readonly IndexParity[];
      seconds?: number;
    };
    const reconciliation = summary.reconciliation ?? [];
    const derived = verifyVerdict(
      collections,
      reconciliation.some((r) => r.status === 'mismatch'),
    );
    return {
      runId: row.id,
      level: row.level,
      schema: row.schema,
      ...(options.fraction !== undefined && { fraction: options.fraction }),
      ...(options.seed !== undefined && { seed: options.seed }),
      collections,
      reconciliation,
      indexes: summary.indexes ?? [],
      verdict: summary.verdict ?? derived.verdict,
      rejected: derived.rejected,
      acceptRejects: summary.acceptRejects ?? false,
      ok: row.ok ?? false,
      seconds: summary.seconds ?? 0,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    };
  });
}
