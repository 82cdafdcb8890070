import type { Command } from 'commander';
import { renderTable } from '../../core/render-table.js';
import { type ColumnMisfit, countMisfits, misfitText } from '../../load/misfits.js';
import type { Plan } from '../../mapping/model.js';
import { parsePlan } from '../../mapping/validate-plan.js';
import { type PhaseHistoryEntry, phaseHistory } from '../../runtime/cutover/phase-history.js';
import type { DomainDefinitions } from '../../runtime/domains.js';
import { formatLatencyMs, quantileMs } from '../../runtime/latency-histogram.js';
import type { RuntimeStatus } from '../../runtime/runtime-status.js';
import { type LoadState, readStatusSnapshot, type ShadowFigures } from '../../runtime/status-snapshot.js';
import { DEFAULT_EMBEDDED_DIR, embeddedTargetExists } from '../../target/embedded-dir.js';
import { openTarget } from '../../target/open-target.js';
import type { Queryable } from '../../target/target-database.js';
import { verdictText } from '../../verify/verdict.js';
import type { VerifyRun } from '../../verify/verify-runs.js';
import { commandContext, timed } from '../context.js';
import { emit } from '../output.js';

/**
 * The load as a whole: `complete` when every collection is loaded with no open reject,
 * `incomplete` when documents are rejected (accounted for, not loaded), `partial` while a
 * collection is still being loaded.
 */
interface LoadVerdict {
  readonly verdict: 'complete' | 'incomplete' | 'partial';
  /** Rejected documents, each counted once even when several schemas hold the same data. */
  readonly rejected: number;
}

interface Status {
  readonly target: string;
  /** Absent when there is no database to ask: the embedded one was never created. */
  readonly serverVersion?: string;
  readonly ferryState: boolean;
  readonly collections: readonly LoadState[];
  readonly load?: LoadVerdict;
  /** Typed columns that sent values to `_extra` (only when the config has a mapping). */
  readonly misfits: readonly ColumnMisfit[];
  readonly lastVerify?: VerifyRun;
  /** Domains, their phases, open gaps and the last sync (the runtime). */
  readonly runtime: RuntimeStatus;
  /** Shadow reads per collection, all time (counts only: mismatch values stay in the table). */
  readonly shadow?: readonly ShadowFigures[];
  /** Each domain's latest phase changes: from, to, who, why, the pause (ferry.domain_events). */
  readonly phaseHistory?: readonly PhaseHistoryEntry[];
}

/**
 * `ferry status`: what Ferry knows about the target — server, the load state of every
 * collection (from the checkpoints) and the last verification. Reads only; never sets up.
 * The figures come from the status snapshot that `ferry serve` also shows.
 */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the target database, the load state of every collection and the last verification')
    .action(async (_options, command: Command) => {
      const { out, log, config } = await commandContext(command);
      if ((config.target === undefined || config.target.trim() === '') && !embeddedTargetExists()) {
        // Opening the embedded database would create it: a read-only command must not.
        const empty: Status = {
          target: `${DEFAULT_EMBEDDED_DIR} (embedded, not created yet)`,
          ferryState: false,
          collections: [],
          misfits: [],
          runtime: { domains: [], openGaps: 0, oldestGapAgeSeconds: null, lastSync: null, lastTtl: null },
        };
        emit(out, empty, () =>
          [
            `target:          ${empty.target}`,
            'nothing has been loaded here; start with `ferry migrate <source>` (or give --target / DATABASE_URL)',
          ].join('\n'),
        );
        return;
      }
      const db = await timed(log, 'target opened', () => openTarget(config.target));
      let status: Status;
      try {
        status = await readStatus(db, db.location, config.mapping ? parsePlan(config.mapping) : undefined, {
          schema: config.schemas?.[0] ?? 'public',
          domains: config.domains ?? {},
        });
      } finally {
        await db.close();
      }
      emit(out, status, () => renderStatus(status));
    });
}

async function readStatus(
  db: Queryable,
  target: string,
  plan: Plan | undefined,
  runtime: { schema: string; domains: DomainDefinitions },
): Promise<Status> {
  const snapshot = await readStatusSnapshot(db, runtime);
  const collections = snapshot.collections;
  const misfits: ColumnMisfit[] = [];
  if (plan !== undefined)
    for (const schema of new Set(collections.map((c) => c.schema)))
      misfits.push(
        ...(await countMisfits(
          db,
          plan,
          schema,
          collections.filter((c) => c.schema === schema).map((c) => c.collection),
        )),
      );
  return {
    target,
    serverVersion: snapshot.serverVersion,
    ferryState: snapshot.ferryState,
    collections,
    ...(collections.length > 0 && { load: loadVerdict(collections) }),
    misfits,
    ...(snapshot.lastVerify ? { lastVerify: snapshot.lastVerify } : {}),
    runtime: snapshot.runtime,
    ...(snapshot.shadow !== undefined && snapshot.shadow.length > 0 && { shadow: snapshot.shadow }),
    phaseHistory: await phaseHistory(db),
  };
}

function loadVerdict(collections: readonly LoadState[]): LoadVerdict {
  const bySchema = new Map<string, number>();
  for (const c of collections) bySchema.set(c.schema, (bySchema.get(c.schema) ?? 0) + c.rejected);
  const rejected = Math.max(0, ...bySchema.values());
  const verdict = collections.some((c) => !c.complete) ? 'partial' : rejected > 0 ? 'incomplete' : 'complete';
  return { verdict, rejected };
}

function loadLine(load: LoadVerdict): string {
  const rejects =
    load.rejected > 0
      ? `${load.rejected} rejected (accounted, not loaded; see \`ferry rejects list\`)`
      : 'nothing rejected';
  switch (load.verdict) {
    case 'complete':
      return 'complete, nothing rejected';
    case 'incomplete':
      return `incomplete: ${rejects}`;
    case 'partial':
      return `partial: a collection is still loading (run \`ferry backfill\` to resume), ${rejects}`;
  }
}

function renderStatus(status: Status): string {
  const lines = [
    `target:          ${status.target}`,
    `server version:  ${status.serverVersion ?? '-'}`,
    `ferry state:     ${status.ferryState ? 'present (schema "ferry")' : 'none yet'}`,
  ];
  if (status.collections.length > 0) {
    lines.push(
      '',
      renderTable(
        ['schema', 'collection', 'state', 'read', 'migrated', 'rejected', 'updated'],
        status.collections.map((c) => [
          c.schema,
          c.collection,
          !c.complete ? 'partial' : c.rejected > 0 ? 'incomplete' : 'loaded',
          c.read,
          c.migrated,
          c.rejected,
          c.updatedAt,
        ]),
      ),
    );
  }
  lines.push('');
  if (status.load) lines.push(`load:            ${loadLine(status.load)}`);
  for (const m of status.misfits) lines.push(`WARNING: ${misfitText(m)}`);
  const run = status.lastVerify;
  if (run) {
    const verdict = run.verdict === undefined ? 'unfinished' : verdictText({ ...run, verdict: run.verdict });
    lines.push(
      `last verify:     run ${run.id}, ${run.level} on schema ${run.schema}, ${verdict} (${run.finishedAt ?? run.startedAt})`,
    );
  } else {
    lines.push('last verify:     never');
  }
  lines.push('', ...renderRuntime(status.runtime));
  if (status.shadow !== undefined) lines.push('', renderShadow(status.shadow));
  if ((status.phaseHistory ?? []).length > 0) lines.push('', renderPhaseHistory(status.phaseHistory ?? []));
  return lines.join('\n');
}

/** Shadow-read outcomes and both sides' p95 (upper bound of its bucket) per collection. */
function renderShadow(shadow: readonly ShadowFigures[]): string {
  const p95 = (h: ShadowFigures['primaryMs']) => {
    const ms = h === undefined ? null : quantileMs(h, 0.95);
    return ms === null ? '-' : `≤ ${formatLatencyMs(ms)} ms`;
  };
  return renderTable(
    ['shadow reads', 'matched', 'mismatched', 'timed out', 'failed', 'MongoDB p95', 'PostgreSQL p95'],
    shadow.map((s) => [
      s.collection,
      s.matched,
      s.mismatched,
      s.timedOut ?? 0,
      s.failed,
      p95(s.primaryMs),
      p95(s.candidateMs),
    ]),
  );
}

function renderRuntime(runtime: RuntimeStatus): string[] {
  const lines: string[] = [];
  if (runtime.domains.length > 0) {
    lines.push(
      renderTable(
        ['domain', 'phase', 'collections', 'open gaps', 'oldest gap', 'phase since'],
        runtime.domains.map((d) => [
          d.name,
          d.registered ? d.phase : `${d.phase} (not registered yet)`,
          d.collections.join(', '),
          d.openGaps,
          d.oldestGapAgeSeconds === null ? '-' : `${d.oldestGapAgeSeconds} s`,
          d.changedAt ?? '-',
        ]),
      ),
      '',
    );
    const fed = runtime.domains.filter(
      (d) => d.phase === 'pg_primary' || d.outbox.depth + d.outbox.dead + d.outbox.deliveredPerSecond > 0,
    );
    if (fed.length > 0)
      lines.push(
        renderTable(
          ['domain', 'outbox depth', 'lag', 'delivered/s', 'retrying', 'dead'],
          fed.map((d) => [
            d.name,
            d.outbox.depth,
            d.outbox.lagSeconds === null ? '-' : `${d.outbox.lagSeconds} s`,
            d.outbox.deliveredPerSecond,
            d.outbox.retrying,
            d.outbox.dead,
          ]),
        ),
        '',
      );
  } else {
    lines.push('domains:         none (declare `domains` in ferry.config.ts)');
  }
  const oldest = runtime.oldestGapAgeSeconds === null ? '' : `, oldest ${runtime.oldestGapAgeSeconds} s`;
  lines.push(`open gaps:       ${runtime.openGaps}${oldest}`);
  const sync = runtime.lastSync;
  lines.push(
    sync === null
      ? 'last sync:       never'
      : `last sync:       run ${sync.id}, ${sync.ok === true ? 'stores equal' : 'NOT equal'} (${sync.finishedAt ?? 'unfinished'})`,
  );
  lines.push(ttlLine(runtime.lastTtl));
  return lines;
}

function ttlLine(ttl: RuntimeStatus['lastTtl']): string {
  if (ttl === null) return 'last TTL run:    never';
  const state = ttl.ok === null ? 'under way' : ttl.ok ? 'finished' : 'FAILED';
  const perRule = ttl.rules.map((r) => `${r.collection} ${r.removed}`).join(', ');
  return `last TTL run:    run ${ttl.id}, ${state}, ${ttl.removed} row(s) removed${perRule === '' ? '' : ` (${perRule})`} (${ttl.finishedAt ?? ttl.startedAt})`;
}

function renderPhaseHistory(history: readonly PhaseHistoryEntry[]): string {
  return renderTable(
    ['domain', 'at', 'change', 'pause', 'who', 'why'],
    history.map((e) => [
      e.domain,
      e.at,
      `${e.from ?? '(new)'} → ${e.to}`,
      e.pauseMs === null ? '-' : `${e.pauseMs} ms`,
      e.actor,
      e.forced.length > 0 ? `${e.reason} (forced past ${e.forced.join(', ')})` : e.reason,
    ]),
  );
}
