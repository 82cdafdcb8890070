import type { Queryable } from '../target/target-database.js';
import { lastVerifyRun, type VerifyRun } from '../verify/verify-runs.js';
import type { DomainDefinitions } from './domains.js';
import { type GapSummary, gapSummary } from './gaps.js';
import type { LatencyHistogram } from './latency-histogram.js';
import { type OutboxFigures, outboxFigures } from './outbox/queue.js';
import { type RuntimeStatus, readRuntimeStatus } from './runtime-status.js';
import { shadowFigures } from './shadow/shadow-figures.js';

/**
 * One collection's backfill as `ferry.checkpoints` holds it.
 *
 * @example
 * declare const snapshot: StatusSnapshot;
 * const loading: readonly LoadState[] = snapshot.collections.filter((c) => !c.complete);
 */
export interface LoadState {
  readonly schema: string;
  readonly collection: string;
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
  readonly complete: boolean;
  readonly updatedAt: string;
  /** Rejects of the collection in `ferry.rejects` not resolved yet (a retry resolves them). */
  readonly openRejects: number;
}

/**
 * The latest verification of one collection, from whichever run verified it last (a run with
 * `--only` verifies some collections; the others keep their earlier result). Each collection's
 * result is stored as it finishes, so an interrupted run's finished collections count.
 *
 * @example
 * declare const snapshot: StatusSnapshot;
 * const failing = snapshot.verified.filter((v) => !v.ok).map((v) => `${v.collection}: ${v.missing} missing`);
 */
export interface VerifiedCollection {
  readonly schema: string;
  readonly collection: string;
  readonly runId: number;
  readonly level: string;
  readonly ok: boolean;
  readonly sourceCount: number;
  readonly targetCount: number;
  readonly compared: number;
  readonly matched: number;
  readonly missing: number;
  readonly extra: number;
  /** Documents whose content differs. */
  readonly content: number;
  readonly rejected: number;
}

/**
 * Shadow reads of one collection: how many compared equal, differed or failed, and their
 * latency as cumulative histogram buckets (`le` in seconds, as Prometheus counts them).
 *
 * @example
 * const figures: ShadowFigures = {
 *   collection: 'orders', matched: 98, mismatched: 1, failed: 1,
 *   latency: { buckets: [{ le: 0.01, count: 90 }, { le: 0.1, count: 100 }], sumSeconds: 0.7, count: 100 },
 * };
 */
export interface ShadowFigures {
  readonly collection: string;
  readonly matched: number;
  readonly mismatched: number;
  readonly failed: number;
  /** Candidates that did not answer within their timeout. */
  readonly timedOut?: number;
  /** Both sides' latency per bucket of `LATENCY_BOUNDS_MS` (MongoDB's, PostgreSQL's). */
  readonly primaryMs?: LatencyHistogram;
  readonly candidateMs?: LatencyHistogram;
  /** PostgreSQL's (the candidate's) latency. */
  readonly latency?: {
    readonly buckets: readonly { readonly le: number; readonly count: number }[];
    readonly sumSeconds: number;
    readonly count: number;
  };
}

/**
 * The TTL cleanup of one collection (a Mongo TTL index becomes a cleanup rule).
 *
 * @example
 * const figures: TtlFigures = { collection: 'sessions', rowsRemoved: 1200, lastRunAt: '2026-12-05T18:00:00.000Z' };
 */
export interface TtlFigures {
  // The last `ferry ttl run`'s figures: rows it removed from this collection, and when it ended.
  readonly collection: string;
  readonly rowsRemoved: number;
  readonly lastRunAt: string | null;
}

/**
 * Everything Ferry knows about a migration at one moment, read from schema `ferry`: the
 * backfill of each collection, the last verification, the domains and their gaps, and the
 * runtime's outbox, shadow reads and TTL cleanup. `ferry status`, `ferry serve`'s health
 * endpoints and its `/metrics` all derive from this one snapshot, so a figure added here
 * shows everywhere.
 *
 * `outbox`, `shadow` and `ttl` are absent while their tables do not exist on the target
 * (`ferry.outbox`, the shadow table and `ferry.ttl_runs` come with the outbox worker, shadow
 * reads and the TTL worker); absent means "no such figures", which the metrics leave out and
 * the sync health counts as zero.
 *
 * @example
 * declare const snapshot: StatusSnapshot;
 * for (const c of snapshot.collections) console.log(c.collection, c.migrated, c.rejected);
 * console.log(snapshot.runtime.openGaps, snapshot.lastVerify?.ok);
 */
export interface StatusSnapshot {
  /** When it was read (ISO 8601, the database's clock). */
  readonly takenAt: string;
  readonly serverVersion: string;
  /** Schema `ferry` exists. */
  readonly ferryState: boolean;
  readonly collections: readonly LoadState[];
  /** The latest load run in `ferry.runs` (`backfill`, or the load step of `migrate`), if any. */
  readonly lastBackfill?: {
    readonly id: number;
    readonly command: string;
    readonly status: string;
    readonly startedAt: string;
    readonly finishedAt: string | null;
  };
  readonly lastVerify?: VerifyRun;
  /** The latest verify result of every collection ever verified. */
  readonly verified: readonly VerifiedCollection[];
  readonly runtime: RuntimeStatus;
  /** Open gaps per collection of the runtime's schema. */
  readonly gaps: readonly GapSummary[];
  readonly outbox?: readonly OutboxFigures[];
  readonly shadow?: readonly ShadowFigures[];
  readonly ttl?: readonly TtlFigures[];
}

/**
 * Read the status snapshot. Reads only: a database without schema `ferry` gives an empty
 * snapshot (no collections, domains in `mongo`), never an error and never a table created.
 *
 * @example
 * declare const db: TargetDatabase;
 * const snapshot = await readStatusSnapshot(db, { schema: 'public', domains: { money: { collections: ['payments'] } } });
 * snapshot.runtime.domains[0]?.phase   // 'mongo'
 */
export async function readStatusSnapshot(
  db: Queryable,
  options: { schema: string; domains: DomainDefinitions },
): Promise<StatusSnapshot> {
  const { rows } = await db.query<{
    taken_at: string;
    version: string;
    has_state: boolean;
    has_checkpoints: boolean;
    has_rejects: boolean;
    has_runs: boolean;
    has_gaps: boolean;
    has_verify: boolean;
    has_outbox: boolean;
    has_shadow: boolean;
  }>(
    `select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as taken_at,
            current_setting('server_version') as version,
            exists (select 1 from pg_namespace where nspname = 'ferry') as has_state,
            to_regclass('ferry.checkpoints') is not null as has_checkpoints,
            to_regclass('ferry.rejects') is not null as has_rejects,
            to_regclass('ferry.runs') is not null as has_runs,
            to_regclass('ferry.gaps') is not null as has_gaps,
            to_regclass('ferry.verify_runs') is not null as has_verify,
            to_regclass('ferry.outbox') is not null as has_outbox,
            to_regclass('ferry.shadow_reads') is not null as has_shadow`,
  );
  const info = rows[0]!;
  const collections = info.has_checkpoints ? await loadStates(db, info.has_rejects) : [];
  const lastBackfill = info.has_runs ? await lastBackfillRun(db) : undefined;
  const lastVerify = info.has_state ? await lastVerifyRun(db) : undefined;
  const outbox = info.has_outbox ? await outboxFigures(db, options.schema) : [];
  const gaps = info.has_gaps ? await gapSummary(db, options.schema) : [];
  const runtime = await readRuntimeStatus(db, options.schema, options.domains, { outbox, gaps });
  return {
    takenAt: info.taken_at,
    serverVersion: info.version,
    ferryState: info.has_state,
    collections,
    ...(lastBackfill !== undefined && { lastBackfill }),
    ...(lastVerify !== undefined && { lastVerify }),
    verified: info.has_verify ? await verifiedCollections(db) : [],
    runtime,
    gaps,
    // Each set of figures is present only when its table exists.
    ...(info.has_outbox && { outbox }),
    ...(info.has_shadow && { shadow: await shadowFigures(db) }),
    ...(runtime.lastTtl !== null && { ttl: ttlFigures(runtime.lastTtl) }),
  };
}

/** The last TTL run's rows removed per collection (a collection may have several rules). */
function ttlFigures(run: NonNullable<RuntimeStatus['lastTtl']>): TtlFigures[] {
  const removed = new Map<string, number>();
  for (const rule of run.rules)
    removed.set(rule.collection, (removed.get(rule.collection) ?? 0) + rule.removed);
  const lastRunAt = run.finishedAt ?? run.startedAt;
  return [...removed].map(([collection, rowsRemoved]) => ({ collection, rowsRemoved, lastRunAt }));
}

async function loadStates(db: Queryable, hasRejects: boolean): Promise<LoadState[]> {
  const openRejects = hasRejects
    ? `(select count(*) from ferry.rejects r
         where r.schema = c.schema and r.collection = c.collection and r.resolved_at is null)::text`
    : `'0'`;
  const { rows } = await db.query<Record<string, string | boolean>>(
    `select schema, collection, read::text, migrated::text, rejected::text, complete,
            updated_at::text as updated_at, ${openRejects} as open_rejects
       from ferry.checkpoints c order by schema, collection`,
  );
  return rows.map((r) => ({
    schema: String(r.schema),
    collection: String(r.collection),
    read: Number(r.read),
    migrated: Number(r.migrated),
    rejected: Number(r.rejected),
    complete: r.complete === true,
    updatedAt: String(r.updated_at),
    openRejects: Number(r.open_rejects),
  }));
}

async function lastBackfillRun(db: Queryable): Promise<StatusSnapshot['lastBackfill']> {
  const { rows } = await db.query<{
    id: string;
    command: string;
    status: string;
    started_at: string;
    finished_at: string | null;
  }>(
    'select id::text, command, status, started_at::text, finished_at::text from ferry.runs order by id desc limit 1',
  );
  const run = rows[0];
  return run === undefined
    ? undefined
    : {
        id: Number(run.id),
        command: run.command,
        status: run.status,
        startedAt: run.started_at,
        finishedAt: run.finished_at,
      };
}

async function verifiedCollections(db: Queryable): Promise<VerifiedCollection[]> {
  // Only the figures: a result's listed differences can be long, and a scrape needs none.
  const { rows } = await db.query<Record<string, string | boolean>>(
    `select distinct on (v.schema, r.key) v.schema, r.key as collection, v.id::text as run_id,
            r.value->>'level' as level, (r.value->>'ok')::boolean as ok,
            r.value->>'sourceCount' as source_count, r.value->>'targetCount' as target_count,
            r.value->>'compared' as compared, r.value->>'matched' as matched,
            r.value->>'missing' as missing, r.value->>'extra' as extra,
            r.value->>'content' as content, r.value->>'rejected' as rejected
       from ferry.verify_runs v, jsonb_each(v.results) r
      order by v.schema, r.key, v.id desc`,
  );
  return rows.map((r) => ({
    schema: String(r.schema),
    collection: String(r.collection),
    runId: Number(r.run_id),
    level: String(r.level),
    ok: r.ok === true,
    sourceCount: Number(r.source_count ?? 0),
    targetCount: Number(r.target_count ?? 0),
    compared: Number(r.compared ?? 0),
    matched: Number(r.matched ?? 0),
    missing: Number(r.missing ?? 0),
    extra: Number(r.extra ?? 0),
    content: Number(r.content ?? 0),
    rejected: Number(r.rejected ?? 0),
  }));
}
