import { redactSecrets } from '../../core/redact.js';
import type { Queryable } from '../../target/target-database.js';
import { type BackfillSection, type RateTracker, readBackfillSection } from './backfill-section.js';
import { type RejectsSection, readRejectsSection } from './rejects-section.js';
import { type OutboxSample, type RuntimeSection, readRuntimeSection } from './runtime-section.js';
import { readVerifyRuns, type VerifyRunView } from './verify-section.js';

/**
 * Everything the page shows, read in one pass over schema `ferry`. Plain JSON: the same object
 * is the `/api/dashboard/snapshot` response and each server-sent event.
 */
export interface DashboardSnapshot {
  /** When it was read (ISO 8601). */
  readonly generatedAt: string;
  /** The target, credentials redacted. */
  readonly target: string;
  /** Whether document values may be shown (`--show-values`). */
  readonly showValues: boolean;
  /** Whether schema `ferry` exists at all. */
  readonly ferryState: boolean;
  readonly backfill: BackfillSection;
  readonly verify: readonly VerifyRunView[];
  readonly runtime: RuntimeSection;
  /** Outbox samples since the dashboard started (oldest first), for the lag and depth chart. */
  readonly outboxHistory: readonly OutboxPoint[];
  readonly rejects: RejectsSection;
}

/** One outbox sample at a time (ms since the epoch). */
export interface OutboxPoint extends OutboxSample {
  readonly at: number;
}

/** What a snapshot is read with: the target, and the state that outlives one read. */
export interface SnapshotSource {
  readonly db: Queryable;
  readonly location: string;
  readonly showValues: boolean;
  readonly apiBase: string;
  readonly rates: RateTracker;
  readonly outboxHistory: OutboxPoint[];
}

/** Ten minutes of samples at the default interval. */
const OUTBOX_HISTORY_LENGTH = 1200;

/**
 * Read the whole dashboard state once; also advances the rate tracker and the outbox history.
 *
 * @example
 * declare const db: TargetDatabase;
 * const snapshot = await readSnapshot({
 *   db, location: db.location, showValues: false, apiBase: 'api/dashboard',
 *   rates: new RateTracker(), outboxHistory: [],
 * });
 * snapshot.backfill.collections.length
 */
export async function readSnapshot(source: SnapshotSource): Promise<DashboardSnapshot> {
  const now = Date.now();
  const { db } = source;
  const { rows } = await db.query<{ ferry: boolean }>(
    `select exists (select 1 from pg_namespace where nspname = 'ferry') as ferry`,
  );
  const ferryState = rows[0]?.ferry === true;
  const backfill = await readBackfillSection(db, source.rates, now);
  const verify = await readVerifyRuns(db, source.apiBase);
  const runtime = await readRuntimeSection(db, { showValues: source.showValues });
  const rejects = await readRejectsSection(db);
  if (runtime.outbox !== null) {
    source.outboxHistory.push({ at: now, ...runtime.outbox });
    if (source.outboxHistory.length > OUTBOX_HISTORY_LENGTH) source.outboxHistory.shift();
  }
  return {
    generatedAt: new Date(now).toISOString(),
    target: redactSecrets(source.location),
    showValues: source.showValues,
    ferryState,
    backfill,
    verify,
    runtime,
    outboxHistory: [...source.outboxHistory],
    rejects,
  };
}
