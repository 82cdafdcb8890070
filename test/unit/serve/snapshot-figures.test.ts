import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/load.js';
import { FerryError } from '../../../src/core/errors.js';
import type { StatusSnapshot } from '../../../src/runtime/status-snapshot.js';
import {
  checkBinding,
  createFerryMetrics,
  DEFAULT_THRESHOLDS,
  resolveThresholds,
  syncHealth,
  syncHealthSchema,
} from '../../../src/serve/index.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

/**
 * `/health/sync` and `/metrics` are pure functions of the status snapshot. The outbox, shadow
 * and TTL tables come with other parts of the runtime, so their figures are checked here on a
 * snapshot that carries them, as `readStatusSnapshot` will once those tables exist.
 */
function snapshotWith(overrides: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    takenAt: '2026-12-05T19:00:00.000Z',
    serverVersion: '15.8',
    ferryState: true,
    collections: [],
    verified: [],
    runtime: {
      domains: [
        {
          name: 'money',
          phase: 'dual_write',
          collections: ['payments', 'ledger'],
          registered: true,
          changedAt: '2026-12-05 18:00:00+00',
          openGaps: 0,
          oldestGapAgeSeconds: null,
          outbox: { depth: 0, lagSeconds: null, deliveredPerSecond: 0, dead: 0, retrying: 0 },
        },
        {
          name: 'people',
          phase: 'mongo',
          collections: ['users'],
          registered: true,
          changedAt: null,
          openGaps: 0,
          oldestGapAgeSeconds: null,
          outbox: { depth: 0, lagSeconds: null, deliveredPerSecond: 0, dead: 0, retrying: 0 },
        },
      ],
      openGaps: 0,
      oldestGapAgeSeconds: null,
      lastSync: null,
      lastTtl: null,
    },
    gaps: [],
    ...overrides,
  };
}

const outbox = (
  collection: string,
  figures: Partial<{ depth: number; lagSeconds: number; dead: number }>,
) => ({
  collection,
  depth: 0,
  lagSeconds: 0,
  deliveredPerSecond: 100,
  retrying: 0,
  dead: 0,
  ...figures,
});

describe('sync health from the status snapshot', () => {
  it('is healthy with nothing behind, and lists the default thresholds of the issue', () => {
    const health = syncHealthSchema.parse(syncHealth(snapshotWith()));
    expect(health.status).toBe('healthy');
    expect(health.domains.map((d) => d.status)).toEqual(['healthy', 'healthy']);
    expect(health.thresholds).toEqual({
      lagSeconds: { warning: 30, critical: 60 },
      queueSize: { warning: 1000, critical: 10_000 },
      failedEvents: { warning: 10, critical: 100 },
      openGaps: { warning: 0, critical: 1000 },
    });
  });

  it('judges lag, queue and failed events over warning as degraded and over critical as critical, per domain', () => {
    const health = syncHealth(
      snapshotWith({
        outbox: [
          outbox('payments', { lagSeconds: 45, depth: 600 }),
          outbox('ledger', { depth: 500, dead: 101 }),
          outbox('users', { lagSeconds: 61 }),
        ],
      }),
    );
    const money = health.domains.find((d) => d.name === 'money')!;
    expect(money.figures).toEqual({ lagSeconds: 45, queueSize: 1100, failedEvents: 101, openGaps: 0 });
    expect(money.alerts.map((a) => [a.figure, a.level])).toEqual([
      ['lagSeconds', 'warning'],
      ['queueSize', 'warning'],
      ['failedEvents', 'critical'],
    ]);
    expect(money.status).toBe('critical');
    const people = health.domains.find((d) => d.name === 'people')!;
    expect(people.alerts).toEqual([
      expect.objectContaining({ figure: 'lagSeconds', level: 'critical', value: 61 }),
    ]);
    expect(health.status).toBe('critical');
  });

  it('judges the total on its own figures: two domains under a threshold can be over it together', () => {
    const health = syncHealth(
      snapshotWith({ outbox: [outbox('payments', { depth: 600 }), outbox('users', { depth: 600 })] }),
    );
    expect(health.domains.map((d) => d.status)).toEqual(['healthy', 'healthy']);
    expect(health.total.alerts).toEqual([
      expect.objectContaining({ domain: null, figure: 'queueSize', level: 'warning', value: 1200 }),
    ]);
    expect(health.status).toBe('degraded');
  });

  it('counts gaps a reconcile failed to close as failed events, and their age as lag', () => {
    const health = syncHealth(
      snapshotWith({
        gaps: [{ collection: 'ledger', open: 12, oldest: null, oldestAgeSeconds: 31, failedAgain: 11 }],
      }),
      resolveThresholds({ openGaps: { warning: 20 } }),
    );
    expect(health.domains[0]!.figures).toEqual({
      lagSeconds: 31,
      queueSize: 12,
      failedEvents: 11,
      openGaps: 12,
    });
    expect(health.domains[0]!.alerts.map((a) => a.figure)).toEqual(['lagSeconds', 'failedEvents']);
  });

  it('takes thresholds from serve.thresholds in the config, level by level over the defaults, and refuses unknown keys', () => {
    const config = validateConfig(
      { serve: { thresholds: { lagSeconds: { warning: 5 } } } },
      'ferry.config.ts',
    );
    expect(resolveThresholds(config.serve?.thresholds)).toEqual({
      ...DEFAULT_THRESHOLDS,
      lagSeconds: { warning: 5, critical: 60 },
    });
    expect(() =>
      validateConfig({ serve: { thresholds: { lag: { warning: 5 } } } }, 'ferry.config.ts'),
    ).toThrow(FerryError);
  });
});

describe('metrics from the status snapshot', () => {
  it('exposes the outbox, shadow reads with latency histograms and TTL removals when the snapshot has them', async () => {
    const snapshot = snapshotWith({
      outbox: [outbox('payments', { depth: 7, lagSeconds: 2.5, dead: 1 })],
      shadow: [
        {
          collection: 'users',
          matched: 90,
          mismatched: 3,
          failed: 2,
          latency: {
            buckets: [
              { le: 0.1, count: 95 },
              { le: 0.005, count: 40 },
            ],
            sumSeconds: 1.25,
            count: 95,
          },
        },
      ],
      ttl: [{ collection: 'sessions', rowsRemoved: 1200, lastRunAt: null }],
    });
    const metrics = createFerryMetrics();
    metrics.update(snapshot, syncHealth(snapshot), 0.01);
    const families = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(families, 'ferry_outbox_depth', { collection: 'payments' })).toBe(7);
    expect(sampleValue(families, 'ferry_outbox_lag_seconds', { collection: 'payments' })).toBe(2.5);
    expect(sampleValue(families, 'ferry_outbox_delivered_per_second', { collection: 'payments' })).toBe(100);
    expect(sampleValue(families, 'ferry_outbox_dead', { collection: 'payments' })).toBe(1);
    expect(sampleValue(families, 'ferry_shadow_reads', { collection: 'users', outcome: 'mismatched' })).toBe(
      3,
    );
    expect(families.get('ferry_shadow_latency_seconds')?.type).toBe('histogram');
    expect(
      sampleValue(families, 'ferry_shadow_latency_seconds_bucket', { collection: 'users', le: '0.005' }),
    ).toBe(40);
    expect(
      sampleValue(families, 'ferry_shadow_latency_seconds_bucket', { collection: 'users', le: '+Inf' }),
    ).toBe(95);
    expect(sampleValue(families, 'ferry_shadow_latency_seconds_sum', { collection: 'users' })).toBe(1.25);
    expect(sampleValue(families, 'ferry_ttl_rows_removed', { collection: 'sessions' })).toBe(1200);
  });

  it('drops the series of a figure that is gone, and reports ferry_status_up 0 when the state cannot be read', async () => {
    const metrics = createFerryMetrics();
    const before = snapshotWith({ outbox: [outbox('payments', { depth: 7 })] });
    metrics.update(before, syncHealth(before), 0.01);
    const after = snapshotWith();
    metrics.update(after, syncHealth(after), 0.01);
    const families = parsePrometheusText(await metrics.registry.metrics());
    expect(families.get('ferry_outbox_depth')?.samples).toEqual([]);
    expect(sampleValue(families, 'ferry_domain_phase', { domain: 'money', phase: 'dual_write' })).toBe(1);
    metrics.unavailable();
    const down = parsePrometheusText(await metrics.registry.metrics());
    expect(sampleValue(down, 'ferry_status_up')).toBe(0);
    expect(down.get('ferry_domain_phase')?.samples).toEqual([]);
  });

  it('keeps each server’s figures in its own registry, never the global one', async () => {
    const { register } = await import('prom-client');
    const one = createFerryMetrics();
    const two = createFerryMetrics();
    expect(one.registry).not.toBe(two.registry);
    expect(register.getSingleMetric('ferry_domain_phase')).toBeUndefined();
  });
});

describe('the listening address', () => {
  it('allows loopback without a token and anything else only with one', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2'])
      expect(() => checkBinding(host, undefined)).not.toThrow();
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com'])
      expect(() => checkBinding(host, undefined)).toThrow(
        expect.objectContaining({ code: 'SERVE_TOKEN_REQUIRED' }),
      );
    expect(() => checkBinding('0.0.0.0', '')).toThrow(FerryError);
    expect(() => checkBinding('0.0.0.0', 'secret')).not.toThrow();
  });
});
