import type { StatusSnapshot } from '../runtime/status-snapshot.js';
import type { HealthLevel, SyncAlert, SyncFigures, SyncHealth } from './schemas.js';
import { DEFAULT_THRESHOLDS, type SyncFigure, type SyncThresholds } from './thresholds.js';

/**
 * `/health/sync` from a status snapshot: how far the other store is behind, per domain and in
 * total, judged against the thresholds.
 *
 * The figures, per collection summed over a domain's collections:
 * - `openGaps`: open gaps, entities the stores disagree on until reconcile copies them;
 * - `lagSeconds`: the age of the oldest thing not yet in the other store, an open gap or an
 *   undelivered outbox event;
 * - `queueSize`: what waits to reach the other store, open gaps plus the outbox depth;
 * - `failedEvents`: what failed more than once, gaps a reconcile could not close plus dead
 *   outbox events.
 * Outbox figures count as zero while the snapshot has none (no `ferry.outbox` table yet).
 *
 * @example
 * declare const snapshot: StatusSnapshot;
 * const health = syncHealth(snapshot);
 * health.status   // 'degraded' while a gap is open
 */
export function syncHealth(
  snapshot: StatusSnapshot,
  thresholds: SyncThresholds = DEFAULT_THRESHOLDS,
): SyncHealth {
  const domains = snapshot.runtime.domains.map((domain) => {
    const figures = figuresOf(snapshot, new Set(domain.collections));
    const alerts = alertsOf(domain.name, figures, thresholds);
    return {
      name: domain.name,
      phase: domain.phase,
      collections: [...domain.collections],
      status: levelOf(alerts),
      figures,
      alerts,
      ...(snapshot.shadow !== undefined && {
        shadow: shadowOf(snapshot.shadow, new Set(domain.collections)),
      }),
    };
  });
  const figures = figuresOf(snapshot, undefined);
  // The total is judged on its own figures too: two domains under a threshold can be over it together.
  const alerts = alertsOf(null, figures, thresholds);
  const status = levelOf([...domains.flatMap((d) => d.alerts), ...alerts]);
  return {
    status,
    takenAt: snapshot.takenAt,
    domains,
    total: { status, figures, alerts },
    thresholds: {
      lagSeconds: { ...thresholds.lagSeconds },
      queueSize: { ...thresholds.queueSize },
      failedEvents: { ...thresholds.failedEvents },
      openGaps: { ...thresholds.openGaps },
    },
  };
}

/** The figures of the collections in `only`, or of every collection of the schema when undefined. */
function figuresOf(snapshot: StatusSnapshot, only: ReadonlySet<string> | undefined): SyncFigures {
  const counts = (collection: string) => only === undefined || only.has(collection);
  const gaps = snapshot.gaps.filter((g) => counts(g.collection));
  const outbox = (snapshot.outbox ?? []).filter((o) => counts(o.collection));
  const openGaps = sum(gaps.map((g) => g.open));
  return {
    lagSeconds: Math.max(
      0,
      ...gaps.map((g) => g.oldestAgeSeconds ?? 0),
      ...outbox.map((o) => o.lagSeconds ?? 0),
    ),
    queueSize: openGaps + sum(outbox.map((o) => o.depth)),
    failedEvents: sum(gaps.map((g) => g.failedAgain)) + sum(outbox.map((o) => o.dead)),
    openGaps,
  };
}

const FIGURE_NAMES: Readonly<Record<SyncFigure, string>> = {
  lagSeconds: 'sync lag (seconds)',
  queueSize: 'queue size',
  failedEvents: 'failed events',
  openGaps: 'open gaps',
};

function alertsOf(domain: string | null, figures: SyncFigures, thresholds: SyncThresholds): SyncAlert[] {
  const alerts: SyncAlert[] = [];
  for (const figure of Object.keys(FIGURE_NAMES) as SyncFigure[]) {
    const value = figures[figure];
    const { warning, critical } = thresholds[figure];
    const level = value > critical ? 'critical' : value > warning ? 'warning' : undefined;
    if (level === undefined) continue;
    const threshold = level === 'critical' ? critical : warning;
    const where = domain === null ? 'in total' : `domain ${domain}`;
    alerts.push({
      domain,
      figure,
      level,
      value,
      threshold,
      message: `${where}: ${FIGURE_NAMES[figure]} ${value} is over the ${level} threshold ${threshold}`,
    });
  }
  return alerts;
}

function levelOf(alerts: readonly SyncAlert[]): HealthLevel {
  if (alerts.some((a) => a.level === 'critical')) return 'critical';
  return alerts.length > 0 ? 'degraded' : 'healthy';
}

/** The shadow-read outcomes of a domain's collections, added up. */
function shadowOf(shadow: NonNullable<StatusSnapshot['shadow']>, collections: ReadonlySet<string>) {
  const of = shadow.filter((s) => collections.has(s.collection));
  return {
    matched: sum(of.map((s) => s.matched)),
    mismatched: sum(of.map((s) => s.mismatched)),
    timedOut: sum(of.map((s) => s.timedOut ?? 0)),
    failed: sum(of.map((s) => s.failed)),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((n, v) => n + v, 0);
}
