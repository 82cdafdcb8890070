import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeStores } from '../../../src/runtime/entity-copy.js';
import type { OutboxBatchReport } from '../../../src/runtime/outbox/worker.js';
import { workOutbox } from '../../../src/runtime/outbox/worker.js';
import { syncHealthSchema } from '../../../src/serve/schemas.js';
import { buildServer } from '../../../src/serve/server.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { mongoUrl } from '../../support/services.js';
import { createOutboxWorld, type OutboxWorld, queueCounts } from './outbox-support.js';
import { differences, servicesReady, TcpProxy, verifyWorld, waitFor } from './support.js';

describe.skipIf(!servicesReady)('an outage of FerretDB while PostgreSQL is the primary', () => {
  let world: OutboxWorld;
  let proxy: TcpProxy;
  let client: MongoClient;
  let stores: RuntimeStores;

  beforeAll(async () => {
    world = await createOutboxWorld('outage', 100);
    const proxied = await TcpProxy.for(mongoUrl()!);
    proxy = proxied.proxy;
    client = new MongoClient(proxied.url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
    stores = {
      mongo: client.db(world.mongo.databaseName),
      pg: world.pool,
      plan: world.plan,
      schema: 'public',
    };
  }, 600_000);

  afterAll(async () => {
    await proxy?.stop();
    await client?.close();
    await world?.close();
  });

  /** Touch `n` notifications in PostgreSQL, one transaction each, as an app would. */
  async function writeNotifications(n: number, stamp: string): Promise<number> {
    const { rows } = await world.pool.query<{ id: string }>(
      'select id::text from notifications order by id limit $1',
      [n],
    );
    for (const { id } of rows)
      await world.pool.query('update notifications set read_at = $2::timestamptz where id = $1', [id, stamp]);
    return rows.length;
  }

  it('grows the queue and reports the lag while FerretDB is away, dead-letters nothing, and drains fully once it is back', async () => {
    const stop = new AbortController();
    const reports: OutboxBatchReport[] = [];
    const worker = workOutbox(stores, { signal: stop.signal, pollMs: 100, onBatch: (r) => reports.push(r) });
    try {
      await writeNotifications(5, '2031-01-01T00:00:00.000Z');
      await waitFor(async () => (await queueCounts(world)).pending === 0, 30_000);

      await proxy.stop();
      const written = await writeNotifications(40, '2032-02-02T00:00:00.000Z');
      expect(written).toBeGreaterThan(10);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const during = await world.ferry(['status', '--json']);
      expect(during.code, during.stderr).toBe(0);
      const outbox = JSON.parse(during.stdout).runtime.domains[0].outbox;
      expect(outbox.depth).toBe(written);
      expect(outbox.lagSeconds).toBeGreaterThanOrEqual(2);
      expect(outbox.dead).toBe(0);
      expect(reports.some((r) => r.kind === 'backoff')).toBe(true);
      // Claims are given back when a batch fails as a whole: nothing stays leased meanwhile.
      const { rows } = await world.pool.query(
        `select count(*)::int as n from ferry.outbox where status = 'pending' and attempts > 0`,
      );
      expect(rows[0].n).toBe(0);
      // ferry serve reads the same figures: the queue and the lag in /metrics and /health/sync.
      const server = await buildServer({ target: world.targetUrl });
      try {
        const metrics = parsePrometheusText((await server.inject({ url: '/metrics' })).body);
        expect(sampleValue(metrics, 'ferry_outbox_depth', { collection: 'notifications' })).toBe(written);
        expect(
          sampleValue(metrics, 'ferry_outbox_lag_seconds', { collection: 'notifications' }),
        ).toBeGreaterThanOrEqual(2);
        const sync = syncHealthSchema.parse((await server.inject({ url: '/health/sync' })).json());
        expect(sync.total.figures.queueSize).toBeGreaterThanOrEqual(written);
      } finally {
        await server.close();
      }

      await proxy.start();
      await waitFor(async () => (await queueCounts(world)).pending === 0, 90_000);
    } finally {
      stop.abort();
      await worker;
    }
    expect(await queueCounts(world)).toEqual({ pending: 0, dead: 0 });
    expect(differences(await verifyWorld(world))).toEqual([]);
    const after = await world.ferry(['status', '--json']);
    expect(JSON.parse(after.stdout).runtime.domains[0].outbox).toMatchObject({
      depth: 0,
      lagSeconds: null,
      dead: 0,
    });
  }, 300_000);
});
