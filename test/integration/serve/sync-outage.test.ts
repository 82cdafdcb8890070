import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ObjectId } from 'bson';
import type { FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapCollection } from '../../../src/runtime/collection-wrapper.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import {
  buildServer,
  databasesHealthSchema,
  readinessSchema,
  syncHealthSchema,
} from '../../../src/serve/index.js';
import { runFerry } from '../../support/cli.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { mongoUrl } from '../../support/services.js';
import {
  createRuntimeWorld,
  MARKET_COLLECTIONS,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  TcpProxy,
} from '../runtime/support.js';

/**
 * The outage scenario: the domain `market` in dual_write, and FerretDB (the primary)
 * unreachable for the runtime's copier and for `ferry serve` (both reach it through a proxy
 * the test stops). A write the app made just before the cut is acknowledged by MongoDB, its
 * copy cannot read the primary, so a gap opens; `/health/sync` turns degraded and the
 * databases endpoint shows MongoDB down. Once FerretDB is back, `ferry reconcile` closes the
 * gaps and `/health/sync` is healthy again.
 */
describe.skipIf(!servicesReady)('ferry serve while FerretDB is unreachable in dual_write', () => {
  let world: RuntimeWorld;
  let proxy: TcpProxy;
  let appClient: MongoClient;
  let runtime: Runtime;
  let app: FastifyInstance;
  let configDir: string;

  beforeAll(async () => {
    world = await createRuntimeWorld('serveout', 100);
    const proxied = await TcpProxy.for(mongoUrl()!);
    proxy = proxied.proxy;
    const primary = new URL(proxied.url);
    primary.pathname = `/${world.mongo.databaseName}`;
    appClient = new MongoClient(primary.toString(), { serverSelectionTimeoutMS: 1500, retryWrites: false });
    await appClient.connect();
    runtime = await startRuntime(world, { mongo: appClient.db(world.mongo.databaseName) });
    app = await buildServer({
      target: world.targetUrl,
      source: primary.toString(),
      domains: { market: { collections: MARKET_COLLECTIONS } },
    });
    configDir = await mkdtemp(path.join(tmpdir(), 'ferry-serve-outage-'));
    await writeFile(
      path.join(configDir, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: world.sourceUri, mapping: world.plan })};\n`,
    );
  }, 600_000);

  afterAll(async () => {
    await app?.close();
    await runtime?.close();
    await appClient?.close().catch(() => {});
    await proxy?.stop();
    await world?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  async function sync() {
    const response = await app.inject({ url: '/health/sync' });
    return { code: response.statusCode, body: syncHealthSchema.parse(response.json()) };
  }

  it('is healthy and ready before the outage', async () => {
    const before = await sync();
    expect(before.code).toBe(200);
    expect(before.body.status).toBe('healthy');
    expect(before.body.domains).toEqual([
      expect.objectContaining({ name: 'market', phase: 'dual_write', status: 'healthy' }),
    ]);
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
  });

  it('turns degraded with an open-gaps alert while the copier cannot read FerretDB, and shows MongoDB down', async () => {
    // The app writes through its own, direct client; the copier reads the primary through the proxy.
    const users = wrapCollection(runtime, world.mongo.collection('users'));
    const ids = world.ids.get('users')!.slice(0, 3) as ObjectId[];
    await proxy.stop();
    for (const id of ids) await users.updateOne({ _id: id }, { $set: { name: 'during the outage' } });

    const during = await sync();
    expect(during.code).toBe(200);
    expect(during.body.status).toBe('degraded');
    const market = during.body.domains[0]!;
    expect(market.status).toBe('degraded');
    expect(market.figures.openGaps).toBe(ids.length);
    expect(market.alerts).toEqual([
      expect.objectContaining({ domain: 'market', figure: 'openGaps', level: 'warning', value: ids.length }),
    ]);

    const databases = databasesHealthSchema.parse((await app.inject({ url: '/health/databases' })).json());
    expect(databases.postgres.connected).toBe(true);
    expect(databases.mongodb).toMatchObject({ connected: false, latencyMs: null });
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(readinessSchema.parse(ready.json()).checks).toEqual({
      postgres: true,
      ferryState: true,
      mongodb: false,
    });

    const metrics = parsePrometheusText((await app.inject({ url: '/metrics' })).body);
    expect(sampleValue(metrics, 'ferry_gaps_open', { collection: 'users' })).toBe(ids.length);
    expect(sampleValue(metrics, 'ferry_sync_status', { domain: 'market' })).toBe(1);
  }, 300_000);

  it('is healthy again after FerretDB is back and ferry reconcile closed the gaps', async () => {
    await proxy.start();
    const reconciled = await runFerry(['reconcile', '--target', world.targetUrl, '--json'], {
      cwd: configDir,
    });
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(JSON.parse(reconciled.stdout)).toMatchObject({ closed: 3, open: 0 });

    const after = await sync();
    expect(after.code).toBe(200);
    expect(after.body.status).toBe('healthy');
    expect(after.body.domains[0]).toMatchObject({ status: 'healthy', alerts: [], figures: { openGaps: 0 } });
    const metrics = parsePrometheusText((await app.inject({ url: '/metrics' })).body);
    expect(sampleValue(metrics, 'ferry_gaps_open', { collection: 'users' })).toBeUndefined();
    expect(sampleValue(metrics, 'ferry_sync_status', { domain: 'market' })).toBe(0);
  }, 300_000);
});
