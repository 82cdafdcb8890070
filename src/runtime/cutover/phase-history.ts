import type { Queryable } from '../../target/target-database.js';

/**
 * One phase change as `ferry status` shows it: when, from, to, who, why, and the pause when
 * the change was a flip.
 *
 * @example
 * const entry: PhaseHistoryEntry = {
 *   domain: 'money', at: '2026-12-05T22:00:00.000Z', from: 'pg_read', to: 'pg_primary',
 *   actor: 'ops@host', reason: 'gates passed', pauseMs: 12.5, forced: [],
 * };
 */
export interface PhaseHistoryEntry {
  readonly domain: string;
  readonly at: string;
  readonly from: string | null;
  readonly to: string;
  readonly actor: string;
  readonly reason: string;
  /** Writes were paused this long (a flip); null for a change that paused nothing. */
  readonly pauseMs: number | null;
  /** Gates `--force` overrode. */
  readonly forced: readonly string[];
}

/**
 * The latest phase changes of each domain (at most `perDomain`), oldest first, from
 * `ferry.domain_events`; none while the table does not exist. Reads only.
 *
 * @example
 * declare const db: TargetDatabase;
 * for (const e of await phaseHistory(db)) console.log(e.at, e.domain, e.from, '→', e.to, e.pauseMs);
 */
export async function phaseHistory(db: Queryable, perDomain = 10): Promise<readonly PhaseHistoryEntry[]> {
  const { rows: has } = await db.query<{ found: boolean }>(
    `select to_regclass('ferry.domain_events') is not null as found`,
  );
  if (has[0]?.found !== true) return [];
  const { rows } = await db.query<{
    domain: string;
    at: string;
    from_phase: string | null;
    to_phase: string;
    actor: string;
    reason: string;
    pause_ms: string | null;
    forced: string | null;
  }>(
    `select domain, at, from_phase, to_phase, actor, reason, pause_ms, forced from (
       select domain, from_phase, to_phase, actor, reason, id,
              to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at,
              figures -> 'pause' ->> 'pauseMs' as pause_ms, (figures -> 'forced')::text as forced,
              row_number() over (partition by domain order by id desc) as n
         from ferry.domain_events) e
      where n <= $1 order by domain, id`,
    [perDomain],
  );
  return rows.map((r) => ({
    domain: r.domain,
    at: r.at,
    from: r.from_phase,
    to: r.to_phase,
    actor: r.actor,
    reason: r.reason,
    pauseMs: r.pause_ms === null ? null : Number(r.pause_ms),
    forced: r.forced === null ? [] : (JSON.parse(r.forced) as string[]),
  }));
}
