import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Document, ObjectId } from 'bson';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GAP_COLLECTION, openGaps } from '../../../src/runtime/gaps.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { runFerry } from '../../support/cli.js';
import {
  createRuntimeWorld,
  differences,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  TcpProxy,
  verifyWorld,
  waitFor,
} from './support.js';

/**
 * PostgreSQL goes away under a live app. The app's pool reaches PostgreSQL through a proxy
 * that the test stops and starts (see TcpProxy for why not the real server).
 */
describe.skipIf(!servicesReady)('an outage of PostgreSQL during writes', () => {
  let world: RuntimeWorld;
  let proxy: TcpProxy;
  let appPool: pg.Pool;
  let runtime: Runtime;
  let configDir: string;

  beforeAll(async () => {
    world = await createRuntimeWorld('pgdown', 200);
    const proxied = await TcpProxy.for(world.targetUrl);
    proxy = proxied.proxy;
    appPool = new pg.Pool({ connectionString: proxied.url, max: 6, connectionTimeoutMillis: 2000 });
    appPool.on('error', () => {});
    runtime = await startRuntime(world, { pg: appPool });
    configDir = await mkdtemp(path.join(tmpdir(), 'ferry-reconcile-'));
    await writeFile(
      path.join(configDir, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: world.sourceUri, mapping: world.plan })};\n`,
    );
  }, 600_000);

  afterAll(async () => {
    await runtime?.close();
    await appPool?.end().catch(() => {});
    await proxy?.stop();
    await world?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('fails no user write, records a gap for each affected entity, and ferry reconcile closes them all', async () => {
    const requests = runtime.collection('purchaseRequests');
    const notifications = runtime.collection('notifications');
    const ids = (world.ids.get('purchaseRequests')! as ObjectId[]).slice(0, 30);
    const failures: unknown[] = [];
    const write = async (id: ObjectId, round: number) => {
      try {
        await requests.updateOne({ _id: id }, { $set: { title: `round ${round}` }, $inc: { __v: 1 } });
      } catch (error) {
        failures.push(error);
      }
    };

    for (const id of ids.slice(0, 10)) await write(id, 1);
    await proxy.stop();
    const duringOutage = ids.slice(10, 30);
    for (const id of duringOutage) await write(id, 2);
    const userId = (world.ids.get('users')! as ObjectId[])[3]!;
    const removed = await notifications.deleteMany({ userId });
    expect(failures).toEqual([]);
    expect(removed.deletedCount).toBeGreaterThanOrEqual(0);

    // While PostgreSQL is down the gaps wait in MongoDB, durably; after the first copy found it
    // unreachable, the others were not even tried (the request path does not wait for it).
    const parked = await world.mongo.collection<Document>(GAP_COLLECTION).find().toArray();
    expect(parked.length).toBeGreaterThanOrEqual(duringOutage.length);
    expect(runtime.stats.postgresDown).toBe(true);
    expect(parked.filter((g) => g.code === 'POSTGRES_UNREACHABLE').length).toBeGreaterThanOrEqual(
      duringOutage.length - 1,
    );

    await proxy.start();
    // Back up: the runtime moves the parked gaps into ferry.gaps by itself.
    await waitFor(async () => (await world.mongo.collection(GAP_COLLECTION).countDocuments()) === 0, 10_000);
    expect(runtime.stats.postgresDown).toBe(false);
    const open = await openGaps(targetOf(world.pool), 'public', { collection: 'purchaseRequests' });
    const gapped = new Set(open.map((g) => String(g.entityId)));
    for (const id of duringOutage) expect(gapped.has(String(id))).toBe(true);
    expect(open.every((g) => g.operation === 'updateOne' && g.errorCode !== null)).toBe(true);
    expect(differences(await verifyWorld(world, ['purchaseRequests'])).length).toBeGreaterThan(0);

    const reconciled = await runFerry(['reconcile', '--target', world.targetUrl, '--json'], {
      cwd: configDir,
    });
    expect(reconciled.stderr).toBe('');
    expect(reconciled.code).toBe(0);
    const summary = JSON.parse(reconciled.stdout) as { closed: number; open: number };
    expect(summary.open).toBe(0);
    expect(summary.closed).toBeGreaterThanOrEqual(duringOutage.length);

    const result = await verifyWorld(world);
    expect(differences(result)).toEqual([]);
    expect(result.ok).toBe(true);
  }, 300_000);
});
