import type { Queryable } from '../../target/target-database.js';
import { PHASES, type Phase } from '../domains.js';
import { formatLatencyMs, mergeHistograms, quantileMs } from '../latency-histogram.js';
import { outboxFigures } from '../outbox/queue.js';
import type { CutoverLimits } from './cutover-config.js';

/**
 * The cutover gates (issue 15's checklist), each a figure read from schema `ferry` and
 * compared with a threshold from the config. Which gates a step needs is decided by the phase
 * it moves to (`GATES_BY_PHASE`, documented in docs/cutover.md).
 */

/**
 * A gate's name, as `ferry cutover` prints it and `--json` reports it.
 *
 * @example
 * const name: GateName = 'open_gaps';
 */
export type GateName =
  | 'backfill'
  | 'verify'
  | 'open_gaps'
  | 'shadow_mismatches'
  | 'p95_ratio'
  | 'outbox_lag'
  | 'rollback_drill'
  | 'settled';

/**
 * One gate's verdict with its figure and threshold.
 *
 * @example
 * const gate: GateResult = { name: 'open_gaps', ok: false, figure: 3, threshold: '0', detail: '3 open gaps' };
 */
export interface GateResult {
  readonly name: GateName;
  readonly ok: boolean;
  /** The measured figure (null when there is nothing to measure, which fails the gate). */
  readonly figure: number | null;
  /** The threshold the figure is held to, as text (`≤ 1.5`, `0`, `≥ 1000 reads`). */
  readonly threshold: string;
  /** The figure in words, with what it was measured over. */
  readonly detail: string;
}

/**
 * The gates each forward step checks, by the phase it moves to:
 * - into `dual_write`: the backfill is complete and a deep verify is clean and recent;
 * - into `shadow_read`: the same, and open gaps below the limit;
 * - into `pg_read`: open gaps below the limit, zero shadow mismatches, the p95 ratio;
 * - into `pg_primary`: no open gaps, zero shadow mismatches, the p95 ratio, a recent drill in
 *   `pg_read`, and `pg_read` held for the settle time;
 * - into `pg_only`: the outbox lag under its limit, a recent clean deep verify, and a recent
 *   drill in `pg_primary` (the primary flip rehearsed both ways).
 *
 * @example
 * GATES_BY_PHASE.pg_primary.includes('rollback_drill')   // true
 */
export const GATES_BY_PHASE: Readonly<Record<Phase, readonly GateName[]>> = {
  mongo: [],
  dual_write: ['backfill', 'verify'],
  shadow_read: ['backfill', 'verify', 'open_gaps'],
  pg_read: ['open_gaps', 'shadow_mismatches', 'p95_ratio'],
  pg_primary: ['open_gaps', 'shadow_mismatches', 'p95_ratio', 'rollback_drill', 'settled'],
  pg_only: ['outbox_lag', 'verify', 'rollback_drill'],
};

/**
 * Where the gates read from: the domain, its collections and phase, the target schema.
 *
 * @example
 * const subject: GateSubject = { domain: 'money', collections: ['payments'], from: 'pg_read', to: 'pg_primary', schema: 'public' };
 */
export interface GateSubject {
  readonly domain: string;
  readonly collections: readonly string[];
  readonly from: Phase;
  readonly to: Phase;
  readonly schema: string;
}

/**
 * Evaluate the gates of a step (see `GATES_BY_PHASE`), each with its figure.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const limits: CutoverLimits;
 * const gates = await evaluateGates(db, { domain: 'money', collections: ['payments'], from: 'mongo', to: 'dual_write', schema: 'public' }, limits);
 * for (const g of gates) console.log(g.ok ? 'pass' : 'FAIL', g.name, g.detail);
 */
export async function evaluateGates(
  db: Queryable,
  subject: GateSubject,
  limits: CutoverLimits,
): Promise<readonly GateResult[]> {
  const results: GateResult[] = [];
  for (const name of GATES_BY_PHASE[subject.to]) results.push(await GATES[name](db, subject, limits));
  return results;
}

type Gate = (db: Queryable, subject: GateSubject, limits: CutoverLimits) => Promise<GateResult>;

const GATES: Readonly<Record<GateName, Gate>> = {
  backfill: async (db, s) => {
    const { rows } = await db.query<{ collection: string; complete: boolean | null; rejects: number }>(
      `select c.collection, k.complete,
              (select count(*)::int from ferry.rejects r
                where r.schema = $2 and r.collection = c.collection and r.resolved_at is null) as rejects
         from unnest($1::text[]) as c(collection)
         left join ferry.checkpoints k on k.schema = $2 and k.collection = c.collection`,
      [s.collections, s.schema],
    );
    const incomplete = rows.filter((r) => r.complete !== true || r.rejects > 0).map((r) => r.collection);
    return {
      name: 'backfill',
      ok: incomplete.length === 0,
      figure: incomplete.length,
      threshold: '0 collections incomplete',
      detail:
        incomplete.length === 0
          ? `all ${rows.length} collections loaded completely`
          : `not loaded completely (or with open rejects): ${incomplete.join(', ')}`,
    };
  },
  verify: async (db, s, limits) => {
    const { rows } = await db.query<{ collection: string; ok: boolean | null; age: number | null }>(
      `select c.collection, r.ok, r.age
         from unnest($1::text[]) as c(collection)
         left join lateral (
           select (v.results -> c.collection ->> 'ok')::boolean as ok,
                  extract(epoch from now() - v.finished_at)::float8 / 3600 as age
             from ferry.verify_runs v
            where v.schema = $2 and v.level = 'deep' and v.finished_at is not null and v.results ? c.collection
            order by v.id desc limit 1) r on true`,
      [s.collections, s.schema],
    );
    const never = rows.filter((r) => r.ok === null).map((r) => r.collection);
    const unclean = rows.filter((r) => r.ok === false).map((r) => r.collection);
    const oldest = Math.max(0, ...rows.map((r) => r.age ?? Number.POSITIVE_INFINITY));
    const stale = oldest > limits.verifyMaxAgeHours;
    const ok = never.length === 0 && unclean.length === 0 && !stale;
    const detail =
      never.length > 0
        ? `no deep verify of ${never.join(', ')}`
        : unclean.length > 0
          ? `the last deep verify found differences in ${unclean.join(', ')}`
          : `last deep verify clean, the oldest ${hours(oldest)} ago`;
    return {
      name: 'verify',
      ok,
      figure: Number.isFinite(oldest) ? round(oldest) : null,
      threshold: `clean, ≤ ${limits.verifyMaxAgeHours} h old`,
      detail,
    };
  },
  open_gaps: async (db, s, limits) => {
    const { rows } = await db.query<{ open: number }>(
      `select count(*)::int as open from ferry.gaps
        where schema = $1 and collection = any($2) and closed_at is null`,
      [s.schema, s.collections],
    );
    const open = rows[0]?.open ?? 0;
    const movesPrimary = s.to === 'pg_primary';
    const ok = movesPrimary ? open === 0 : open < limits.maxOpenGaps;
    return {
      name: 'open_gaps',
      ok,
      figure: open,
      threshold: movesPrimary ? '0 (the primary moves)' : `< ${limits.maxOpenGaps}`,
      detail: `${open} open gap${open === 1 ? '' : 's'}`,
    };
  },
  shadow_mismatches: async (db, s, limits) => {
    const w = await shadowWindow(db, s.domain, limits.shadowWindowHours);
    const compared = w.matched + w.mismatched;
    const ok = w.mismatched === 0 && compared >= limits.minShadowReads;
    return {
      name: 'shadow_mismatches',
      ok,
      figure: w.mismatched,
      threshold: `0 in ≥ ${limits.minShadowReads} compared reads over ${limits.shadowWindowHours} h`,
      detail: `${w.mismatched} mismatches in ${compared} compared reads (${w.timedOut} timed out, ${w.failed} failed) over the last ${limits.shadowWindowHours} h`,
    };
  },
  p95_ratio: async (db, s, limits) => {
    const w = await shadowWindow(db, s.domain, limits.shadowWindowHours);
    const mongo = quantileMs(w.primary, 0.95);
    const postgres = quantileMs(w.candidate, 0.95);
    const ratio = mongo === null || postgres === null ? null : postgres / mongo;
    return {
      name: 'p95_ratio',
      ok: ratio !== null && Number.isFinite(ratio) && ratio <= limits.maxP95Ratio,
      figure: ratio === null || !Number.isFinite(ratio) ? null : round(ratio),
      threshold: `≤ ${limits.maxP95Ratio}`,
      detail:
        mongo === null || postgres === null
          ? `no shadow-read latencies over the last ${limits.shadowWindowHours} h`
          : `PostgreSQL p95 ${formatLatencyMs(postgres)} ms, MongoDB p95 ${formatLatencyMs(mongo)} ms over the last ${limits.shadowWindowHours} h`,
    };
  },
  outbox_lag: async (db, s, limits) => {
    const figures = (await outboxFigures(db, s.schema)).filter((f) => s.collections.includes(f.collection));
    const lag = Math.max(0, ...figures.map((f) => f.lagSeconds ?? 0));
    const dead = figures.reduce((n, f) => n + f.dead, 0);
    const depth = figures.reduce((n, f) => n + f.depth, 0);
    return {
      name: 'outbox_lag',
      ok: lag <= limits.maxOutboxLagSeconds && dead === 0,
      figure: lag,
      threshold: `≤ ${limits.maxOutboxLagSeconds} s, no dead events`,
      detail: `oldest undelivered event ${lag} s old, ${depth} pending, ${dead} dead`,
    };
  },
  rollback_drill: async (db, s, limits) => {
    const { rows } = await db.query<{ ok: boolean; age: number; failure: string | null }>(
      `select ok, failure, extract(epoch from now() - finished_at)::float8 / 3600 as age
         from ferry.rollback_drills where domain = $1 and phase = $2 order by id desc limit 1`,
      [s.domain, s.from],
    );
    const last = rows[0];
    const ok = last?.ok === true && last.age <= limits.drillMaxAgeHours;
    return {
      name: 'rollback_drill',
      ok,
      figure: last === undefined ? null : round(last.age),
      threshold: `passed in ${s.from}, ≤ ${limits.drillMaxAgeHours} h ago`,
      detail:
        last === undefined
          ? `no rollback drill in ${s.from}; run \`ferry rollback ${s.domain} --drill\``
          : last.ok
            ? `passed ${hours(last.age)} ago`
            : `the last drill failed ${hours(last.age)} ago: ${last.failure ?? 'see ferry.rollback_drills'}`,
    };
  },
  settled: async (db, s, limits) => {
    const { rows } = await db.query<{ age: number }>(
      'select extract(epoch from now() - changed_at)::float8 as age from ferry.domains where name = $1',
      [s.domain],
    );
    const age = rows[0]?.age ?? 0;
    return {
      name: 'settled',
      ok: age >= limits.settleSeconds,
      figure: round(age),
      threshold: `≥ ${limits.settleSeconds} s in ${s.from}`,
      detail: `in ${s.from} for ${round(age)} s, so every app instance has read it`,
    };
  },
};

interface ShadowWindow {
  readonly matched: number;
  readonly mismatched: number;
  readonly timedOut: number;
  readonly failed: number;
  readonly primary: readonly number[];
  readonly candidate: readonly number[];
}

async function shadowWindow(db: Queryable, domain: string, windowHours: number): Promise<ShadowWindow> {
  const { rows } = await db.query<Record<string, string>>(
    `select matched::text, mismatched::text, timed_out::text, failed::text,
            to_json(primary_ms)::text as primary_ms, to_json(candidate_ms)::text as candidate_ms
       from ferry.shadow_reads where domain = $1 and minute >= now() - $2 * interval '1 hour'`,
    [domain, windowHours],
  );
  const sum = (key: string) => rows.reduce((n, r) => n + Number(r[key]), 0);
  return {
    matched: sum('matched'),
    mismatched: sum('mismatched'),
    timedOut: sum('timed_out'),
    failed: sum('failed'),
    primary: mergeHistograms(rows.map((r) => JSON.parse(r.primary_ms!) as number[])),
    candidate: mergeHistograms(rows.map((r) => JSON.parse(r.candidate_ms!) as number[])),
  };
}

/**
 * The phase after `phase`, or undefined from the last one.
 *
 * @example
 * nextPhase('pg_read')   // 'pg_primary'
 */
export function nextPhase(phase: Phase): Phase | undefined {
  return PHASES[PHASES.indexOf(phase) + 1];
}

function hours(h: number): string {
  return h < 1 ? `${Math.round(h * 60)} min` : `${round(h)} h`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
