import { redactSecrets } from '../../core/redact.js';
import type { Queryable } from '../../target/target-database.js';

/**
 * The backfill as the dashboard shows it: every collection's checkpoint (the committed
 * counts, DESIGN.md invariant 3) with a rate and an ETA, and the latest runs. The checkpoints
 * are the truth: they move only when a chunk commits, so what the page shows is what a resume
 * would continue from.
 */

/** One collection's load in one target schema. */
export interface CollectionProgress {
  readonly schema: string;
  readonly collection: string;
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
  readonly complete: boolean;
  /** The source's document count when the run knew it (a live MongoDB estimates it), else null. */
  readonly total: number | null;
  /** Documents read per second over the last few seconds, null until two samples differ in time. */
  readonly docsPerSecond: number | null;
  /** Seconds left at the current rate; null when the total or the rate is unknown. */
  readonly etaSeconds: number | null;
  readonly runId: number | null;
  readonly updatedAt: string;
}

/** A row of `ferry.runs`, credentials redacted from what it recorded. */
export interface RunSummary {
  readonly id: number;
  readonly command: string;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Where the run read from, redacted (a mongodb:// URI may carry a password). */
  readonly source: string | null;
}

export interface BackfillSection {
  readonly collections: readonly CollectionProgress[];
  readonly runs: readonly RunSummary[];
}

/** How far back the rate looks: long enough to smooth chunk commits, short enough to follow changes. */
const RATE_WINDOW_MS = 5_000;

/**
 * Docs/s per collection from successive readings of the checkpoints. One tracker lives as long
 * as the dashboard, so every client sees the same rate.
 *
 * @example
 * const tracker = new RateTracker();
 * tracker.observe('public.orders', 1000, 0);
 * tracker.observe('public.orders', 3000, 1000);
 * tracker.rate('public.orders')   // 2000
 */
export class RateTracker {
  readonly #samples = new Map<string, { at: number; read: number }[]>();

  /** Record a reading of `read` documents at time `at` (ms). */
  observe(key: string, read: number, at: number): void {
    const samples = this.#samples.get(key) ?? [];
    const last = samples.at(-1);
    // A reset (--force) starts the count again: the old samples say nothing about the new run.
    if (last !== undefined && read < last.read) samples.length = 0;
    samples.push({ at, read });
    while (samples.length > 2 && samples[0]!.at < at - RATE_WINDOW_MS) samples.shift();
    this.#samples.set(key, samples);
  }

  /** Documents per second between the oldest and newest reading in the window, or null. */
  rate(key: string): number | null {
    const samples = this.#samples.get(key);
    if (samples === undefined || samples.length < 2) return null;
    const first = samples[0]!;
    const last = samples.at(-1)!;
    if (last.at <= first.at) return null;
    return ((last.read - first.read) * 1000) / (last.at - first.at);
  }
}

/**
 * Seconds until `read` reaches `total` at `rate` docs/s; null when either is unknown or the
 * load stands still (an ETA of "never" helps nobody; the page says the rate is 0).
 *
 * @example
 * etaSeconds(250, 1000, 50)   // 15
 */
export function etaSeconds(read: number, total: number | null, rate: number | null): number | null {
  if (total === null || rate === null || rate <= 0) return null;
  return Math.max(0, (total - read) / rate);
}

/**
 * The checkpoints and the last runs, or empty lists when Ferry's state is not there yet.
 *
 * @example
 * declare const db: TargetDatabase;
 * const section = await readBackfillSection(db, new RateTracker(), Date.now());
 * for (const c of section.collections) console.log(c.collection, c.read, c.docsPerSecond);
 */
export async function readBackfillSection(
  db: Queryable,
  tracker: RateTracker,
  now: number,
): Promise<BackfillSection> {
  const { rows: has } = await db.query<{ runs: boolean; checkpoints: boolean }>(
    `select to_regclass('ferry.runs') is not null as runs, to_regclass('ferry.checkpoints') is not null as checkpoints`,
  );
  if (!has[0]?.runs || !has[0].checkpoints) return { collections: [], runs: [] };
  const { rows: runRows } = await db.query<{
    id: string;
    command: string;
    status: string;
    started_at: string;
    finished_at: string | null;
    options: string;
  }>(
    `select id, command, status, ${iso('started_at')} as started_at, ${iso('finished_at')} as finished_at,
            options::text as options
       from ferry.runs order by id desc limit 10`,
  );
  const runs = runRows.map((r): RunSummary => {
    const options = JSON.parse(r.options) as { source?: unknown };
    return {
      id: Number(r.id),
      command: r.command,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      source: typeof options.source === 'string' ? redactSecrets(options.source) : null,
    };
  });
  const { rows } = await db.query<{
    schema: string;
    collection: string;
    read: string;
    migrated: string;
    rejected: string;
    complete: boolean;
    run_id: string | null;
    updated_at: string;
    estimates: string | null;
  }>(
    `select c.schema, c.collection, c.read, c.migrated, c.rejected, c.complete, c.run_id,
            ${iso('c.updated_at')} as updated_at, (r.options -> 'estimates')::text as estimates
       from ferry.checkpoints c left join ferry.runs r on r.id = c.run_id
      order by c.schema, c.collection`,
  );
  const collections = rows.map((r): CollectionProgress => {
    const key = `${r.schema}.${r.collection}`;
    const read = Number(r.read);
    tracker.observe(key, read, now);
    const known = r.estimates === null ? undefined : (JSON.parse(r.estimates) as Record<string, unknown>);
    const estimate = known?.[r.collection];
    const complete = r.complete;
    // A finished collection's total is what it read; a live estimate can be off either way.
    const total = complete ? read : typeof estimate === 'number' ? Math.max(estimate, read) : null;
    const rate = complete ? null : tracker.rate(key);
    return {
      schema: r.schema,
      collection: r.collection,
      read,
      migrated: Number(r.migrated),
      rejected: Number(r.rejected),
      complete,
      total,
      docsPerSecond: rate,
      etaSeconds: complete ? 0 : etaSeconds(read, total, rate),
      runId: r.run_id === null ? null : Number(r.run_id),
      updatedAt: r.updated_at,
    };
  });
  return { collections, runs };
}

/** A timestamptz as ISO 8601 in UTC with milliseconds, the way the page parses dates. */
export function iso(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
