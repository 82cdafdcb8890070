import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceCheckpoint, startRun } from '../../../src/load/state-store.js';
import { etaSeconds, RateTracker } from '../../../src/serve/dashboard/backfill-section.js';
import { dashboardPlugin } from '../../../src/serve/dashboard/plugin.js';
import { displayId } from '../../../src/serve/dashboard/runtime-section.js';
import type { DashboardSnapshot } from '../../../src/serve/dashboard/snapshot.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';

/**
 * The dashboard's HTTP surface without a browser: what it serves and refuses, and the figures
 * behind the progress bars (rate, ETA, totals) over real PostgreSQL state.
 */
describe('the rate and ETA of a load', () => {
  it('is the documents read per second over the last few seconds, and the ETA what is left at that rate', () => {
    const tracker = new RateTracker();
    expect(tracker.rate('public.orders')).toBeNull();
    tracker.observe('public.orders', 1000, 0);
    tracker.observe('public.orders', 3000, 1000);
    tracker.observe('public.orders', 7000, 2000);
    expect(tracker.rate('public.orders')).toBe(3000);
    expect(etaSeconds(7000, 10_000, 3000)).toBe(1);
    // Readings older than the window no longer count.
    tracker.observe('public.orders', 8000, 9000);
    expect(tracker.rate('public.orders')).toBeCloseTo(1000 / 7, 5);
    // A reset (--force) starts over instead of showing a negative rate.
    tracker.observe('public.orders', 10, 9500);
    expect(tracker.rate('public.orders')).toBeNull();
  });

  it('has no ETA without a total or while nothing moves', () => {
    expect(etaSeconds(10, null, 100)).toBeNull();
    expect(etaSeconds(10, 100, 0)).toBeNull();
    expect(etaSeconds(10, 100, null)).toBeNull();
  });

  it('shows stored _ids as people type them', () => {
    expect(displayId('{"$oid":"65a1b2c3d4e5f60718293a4b"}')).toBe('65a1b2c3d4e5f60718293a4b');
    expect(displayId('"order-7"')).toBe('order-7');
    expect(displayId('{"$numberInt":"7"}')).toBe('{"$numberInt":"7"}');
  });
});

describe.skipIf(!postgresUrl())('the dashboard’s HTTP routes', () => {
  let target: { url: string; drop: () => Promise<void> };
  let db: TargetDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    target = await createTestDatabase('dash_api');
    db = await openTarget(target.url);
    app = Fastify();
    await app.register(dashboardPlugin, { target: db });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    await target?.drop();
  });

  it('answers on a database without Ferry state with empty sections, and sets up nothing', async () => {
    const response = await app.inject('/api/dashboard/snapshot');
    expect(response.statusCode).toBe(200);
    const snapshot = response.json<DashboardSnapshot>();
    expect(snapshot).toMatchObject({
      ferryState: false,
      backfill: { collections: [], runs: [] },
      verify: [],
      runtime: { domains: [], events: [], gaps: { open: 0, list: [] }, outbox: null, shadow: null },
      rejects: { open: 0, latest: [] },
    });
    expect(await sql(target.url, `select 1 from pg_namespace where nspname = 'ferry'`)).toEqual([]);
  });

  it('serves the page, its assets and uPlot from node_modules, under a strict content security policy', async () => {
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/https?:\/\//);
    for (const [url, type] of [
      ['/assets/app.js', 'text/javascript'],
      ['/assets/dashboard.css', 'text/css'],
      ['/vendor/uplot.js', 'text/javascript'],
      ['/vendor/uplot.css', 'text/css'],
    ] as const) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toContain(type);
    }
    expect((await app.inject('/vendor/uplot.js')).body).toContain('uPlot');
  });

  it('works under a prefix: the page’s address gets its trailing slash, so its relative URLs resolve', async () => {
    const prefixed = Fastify();
    await prefixed.register(dashboardPlugin, { target: db, prefix: '/dash' });
    try {
      const bare = await prefixed.inject('/dash');
      expect(bare.statusCode).toBe(302);
      expect(bare.headers.location).toBe('/dash/');
      expect((await prefixed.inject('/dash/')).headers['content-type']).toContain('text/html');
      expect((await prefixed.inject('/dash/assets/app.js')).statusCode).toBe(200);
      expect((await prefixed.inject('/dash/api/dashboard/snapshot')).statusCode).toBe(200);
    } finally {
      await prefixed.close();
    }
  });

  it('serves no file outside the assets it ships, however the path is spelled', async () => {
    for (const url of [
      '/assets/plugin.ts',
      '/assets/..%2Fplugin.ts',
      '/assets/%2e%2e%2fplugin.ts',
      '/assets/../plugin.ts',
      '/vendor/package.json',
      '/vendor/..%2F..%2Fpackage.json',
    ]) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.body, url).not.toContain('dashboardPlugin');
    }
  });

  it('answers 404 for a reject or a verify run that does not exist', async () => {
    expect((await app.inject('/api/dashboard/rejects/12345')).statusCode).toBe(404);
    expect((await app.inject('/api/dashboard/rejects/abc')).statusCode).toBe(404);
    expect((await app.inject('/api/dashboard/verify-runs/99/report.html')).statusCode).toBe(404);
  });

  it('gives a loading collection its total from the run, a rate from successive reads, and an ETA', async () => {
    await ensureFerryState(db);
    // State as a backfill from a live server writes it: the run with the source's estimates.
    const runId = await startRun(db, 'backfill', {
      source: 'mongodb://app:s3cret@db/shop',
      estimates: { orders: 10_000 },
    });
    const step = { position: undefined, rejected: 0, complete: false, runId };
    await advanceCheckpoint(db, 'public', 'orders', { ...step, read: 1000, migrated: 1000 });
    const first = (await app.inject('/api/dashboard/snapshot')).json<DashboardSnapshot>();
    expect(first.backfill.collections[0]).toMatchObject({
      read: 1000,
      total: 10_000,
      docsPerSecond: null,
      etaSeconds: null,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await advanceCheckpoint(db, 'public', 'orders', { ...step, read: 3000, migrated: 3000 });
    const second = (await app.inject('/api/dashboard/snapshot')).json<DashboardSnapshot>();
    const orders = second.backfill.collections[0]!;
    expect(orders.read).toBe(4000);
    expect(orders.docsPerSecond).toBeGreaterThan(0);
    expect(orders.etaSeconds).toBeCloseTo((10_000 - 4000) / orders.docsPerSecond!, 5);
    // The run's source is shown without its password.
    expect(second.backfill.runs[0]!.source).toBe('mongodb://app:***@db/shop');
    expect(JSON.stringify(second)).not.toContain('s3cret');
  });

  it('streams snapshots as server-sent events', async () => {
    const server = Fastify();
    await server.register(dashboardPlugin, { target: db, intervalMs: 100 });
    const address = await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`${address}/api/dashboard/events`);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const reader = response.body!.getReader();
      let text = '';
      while ((text.match(/event: snapshot/g) ?? []).length < 3)
        text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      const stamps = [...text.matchAll(/"generatedAt":"([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(stamps).size).toBeGreaterThanOrEqual(2);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!postgresUrl() || !mongoUrl())('a backfill from a live MongoDB', () => {
  it('records the source’s estimated counts in its run, where the dashboard reads its totals', async () => {
    const target = await createTestDatabase('dash_estimates');
    const database = `ferry_dash_estimates_${process.pid}`;
    const client = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
    // migrate writes its config and migrations into the working folder: a throwaway one.
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-dash-estimates-'));
    try {
      await client
        .db(database)
        .collection('things')
        .insertMany(Array.from({ length: 25 }, (_, i) => ({ n: i })));
      const source = new URL(mongoUrl()!);
      source.pathname = `/${database}`;
      const result = await runFerry(['migrate', source.toString(), '--target', target.url, '--yes'], { cwd });
      expect(result.code, result.stderr).toBe(0);
      const [run] = await sql<{ estimates: unknown }>(
        target.url,
        `select options -> 'estimates' as estimates from ferry.runs order by id desc limit 1`,
      );
      expect(run?.estimates).toEqual({ things: 25 });
    } finally {
      await client
        .db(database)
        .dropDatabase()
        .catch(() => {});
      await client.close();
      await target.drop();
      await rm(cwd, { recursive: true, force: true });
    }
  }, 300_000);
});
