import { Gauge, type Metric, Registry } from 'prom-client';
import { PHASES } from '../runtime/domains.js';
import type { ShadowFigures, StatusSnapshot } from '../runtime/status-snapshot.js';
import type { SyncHealth } from './schemas.js';

/**
 * `/metrics`: the status snapshot in Prometheus' text format. Every figure is read from schema
 * `ferry` at scrape time, so they are gauges (a reload with `--force` takes counts down again)
 * set from the snapshot, in a registry of the server's own: the global registry belongs to the
 * application that may mount these handlers, and two servers in one process must not mix.
 *
 * Families of the outbox, shadow reads and TTL cleanup have no samples while the snapshot has
 * no such figures (their tables do not exist yet on the target).
 */
export interface FerryMetrics {
  readonly registry: Registry;
  /** Set every figure from a snapshot, dropping series that are gone (a collection removed). */
  update(snapshot: StatusSnapshot, sync: SyncHealth, snapshotSeconds: number): void;
  /** The snapshot could not be read (PostgreSQL down): every family empty, `ferry_status_up` 0. */
  unavailable(): void;
}

const SYNC_LEVELS = { healthy: 0, degraded: 1, critical: 2 } as const;

/**
 * A registry holding Ferry's metric families, and a way to set them from a snapshot.
 *
 * @example
 * declare const snapshot: StatusSnapshot;
 * const metrics = createFerryMetrics();
 * metrics.update(snapshot, syncHealth(snapshot), 0.01);
 * const text = await metrics.registry.metrics();
 */
export function createFerryMetrics(): FerryMetrics {
  const registry = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });

  const backfillDocuments = gauge(
    'ferry_backfill_documents',
    'Documents of a collection the backfill read, migrated and rejected (ferry.checkpoints)',
    ['schema', 'collection', 'outcome'],
  );
  const backfillRejectsOpen = gauge(
    'ferry_backfill_rejects_open',
    'Rejected documents of a collection not resolved yet (ferry.rejects)',
    ['schema', 'collection'],
  );
  const backfillComplete = gauge(
    'ferry_backfill_complete',
    '1 when the backfill of a collection reached the end of its source',
    ['schema', 'collection'],
  );
  const lastRun = gauge(
    'ferry_backfill_last_run_id',
    'The id of the latest load run in ferry.runs, labelled with its command and status (running, succeeded, failed, aborted)',
    ['command', 'status'],
  );
  const verifyOk = gauge(
    'ferry_verify_ok',
    '1 when the latest verification of the collection found it complete, 0 when not',
    ['schema', 'collection', 'level'],
  );
  const verifyDocuments = gauge(
    'ferry_verify_documents',
    'Documents of the latest verification per collection: compared, matched, missing, extra, content (differing), rejected',
    ['schema', 'collection', 'outcome'],
  );
  const verifyRun = gauge('ferry_verify_last_run_id', 'The id of the last finished verify run', [
    'schema',
    'level',
  ]);
  const domainPhase = gauge('ferry_domain_phase', "1 for a domain's current phase, 0 for the others", [
    'domain',
    'phase',
  ]);
  const gapsOpen = gauge('ferry_gaps_open', 'Open gaps of a collection (entities the mirror missed)', [
    'collection',
  ]);
  const gapsAge = gauge('ferry_gaps_oldest_age_seconds', "Age of a collection's oldest open gap", [
    'collection',
  ]);
  const syncStatus = gauge(
    'ferry_sync_status',
    'Sync health of a domain: 0 healthy, 1 degraded, 2 critical',
    ['domain'],
  );
  const syncTotal = gauge(
    'ferry_sync_status_total',
    'Sync health over all domains: 0 healthy, 1 degraded, 2 critical',
    [],
  );
  const syncAlerts = gauge(
    'ferry_sync_alerts',
    'Alerts of /health/sync by figure and level (domain "" for the total)',
    ['domain', 'figure', 'level'],
  );
  const outbox = {
    depth: gauge('ferry_outbox_depth', 'Outbox events not delivered yet', ['collection']),
    lagSeconds: gauge('ferry_outbox_lag_seconds', 'Age of the oldest undelivered outbox event', [
      'collection',
    ]),
    deliveredPerSecond: gauge(
      'ferry_outbox_delivered_per_second',
      'Outbox events delivered per second over the last minute',
      ['collection'],
    ),
    retrying: gauge('ferry_outbox_retrying', 'Outbox events waiting for another try', ['collection']),
    dead: gauge('ferry_outbox_dead', 'Outbox events given up on (dead letters)', ['collection']),
  };
  const shadowReads = gauge(
    'ferry_shadow_reads',
    'Shadow reads by outcome: matched, mismatched, timed_out, failed',
    ['collection', 'outcome'],
  );
  const shadowLatency = new SnapshotHistogram(
    'ferry_shadow_latency_seconds',
    'Latency of shadow reads from PostgreSQL',
  );
  registry.registerMetric(shadowLatency as unknown as Metric);
  const ttlRemoved = gauge('ferry_ttl_rows_removed', 'Rows the TTL cleanup removed', ['collection']);
  const snapshotDuration = gauge(
    'ferry_status_snapshot_seconds',
    'Time taken to read the status snapshot',
    [],
  );
  const up = gauge('ferry_status_up', "1 when Ferry's state could be read for this scrape, 0 when not", []);

  return {
    registry,
    update(snapshot, sync, snapshotSeconds) {
      registry.resetMetrics();
      for (const c of snapshot.collections) {
        const labels = { schema: c.schema, collection: c.collection };
        backfillDocuments.set({ ...labels, outcome: 'read' }, c.read);
        backfillDocuments.set({ ...labels, outcome: 'migrated' }, c.migrated);
        backfillDocuments.set({ ...labels, outcome: 'rejected' }, c.rejected);
        backfillRejectsOpen.set(labels, c.openRejects);
        backfillComplete.set(labels, c.complete ? 1 : 0);
      }
      const load = snapshot.lastBackfill;
      if (load !== undefined) lastRun.set({ command: load.command, status: load.status }, load.id);
      const run = snapshot.lastVerify;
      if (run !== undefined) verifyRun.set({ schema: run.schema, level: run.level }, run.id);
      for (const result of snapshot.verified) {
        const labels = { schema: result.schema, collection: result.collection };
        verifyOk.set({ ...labels, level: result.level }, result.ok ? 1 : 0);
        for (const outcome of ['compared', 'matched', 'missing', 'extra', 'content', 'rejected'] as const)
          verifyDocuments.set({ ...labels, outcome }, result[outcome]);
      }
      for (const domain of snapshot.runtime.domains)
        for (const phase of PHASES)
          domainPhase.set({ domain: domain.name, phase }, domain.phase === phase ? 1 : 0);
      for (const g of snapshot.gaps) {
        gapsOpen.set({ collection: g.collection }, g.open);
        gapsAge.set({ collection: g.collection }, g.oldestAgeSeconds ?? 0);
      }
      for (const domain of sync.domains) syncStatus.set({ domain: domain.name }, SYNC_LEVELS[domain.status]);
      syncTotal.set(SYNC_LEVELS[sync.status]);
      for (const alert of [...sync.domains.flatMap((d) => d.alerts), ...sync.total.alerts])
        syncAlerts.inc({ domain: alert.domain ?? '', figure: alert.figure, level: alert.level });
      for (const o of snapshot.outbox ?? [])
        for (const key of ['depth', 'lagSeconds', 'deliveredPerSecond', 'retrying', 'dead'] as const)
          outbox[key].set({ collection: o.collection }, o[key] ?? 0);
      for (const s of snapshot.shadow ?? [])
        for (const [outcome, value] of [
          ['matched', s.matched],
          ['mismatched', s.mismatched],
          ['timed_out', s.timedOut ?? 0],
          ['failed', s.failed],
        ] as const)
          shadowReads.set({ collection: s.collection, outcome }, value);
      shadowLatency.figures = snapshot.shadow ?? [];
      for (const t of snapshot.ttl ?? []) ttlRemoved.set({ collection: t.collection }, t.rowsRemoved);
      snapshotDuration.set(snapshotSeconds);
      up.set(1);
    },
    unavailable() {
      registry.resetMetrics();
      up.set(0);
    },
  };
}

/**
 * A histogram whose buckets come from the snapshot, already counted. prom-client's Histogram
 * only counts observations made in this process, while shadow reads happen in the application
 * and are counted in the database; so this family renders stored buckets the way prom-client
 * renders its own (`_bucket` per `le` with `+Inf`, `_sum`, `_count`).
 */
class SnapshotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  figures: readonly ShadowFigures[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const { collection, latency } of this.figures) {
      if (latency === undefined) continue;
      for (const bucket of [...latency.buckets].sort((a, b) => a.le - b.le))
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: bucket.le, collection },
          value: bucket.count,
        });
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', collection },
        value: latency.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: { collection }, value: latency.sumSeconds });
      values.push({ metricName: `${this.name}_count`, labels: { collection }, value: latency.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.figures = [];
  }
}
