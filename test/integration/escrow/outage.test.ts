import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPhase } from '../../../src/runtime/domains.js';
import { TcpProxy } from '../runtime/support.js';
import {
  createEscrowWorld,
  type EscrowWorld,
  type ExampleProcess,
  servicesReady,
  startApp,
  startExample,
} from './support.js';

/**
 * One escrow app instance under a light load (a separate load generator process), reaching both
 * stores through proxies the test stops for 5 s: the instance must keep answering `/health`
 * during the outage and acknowledge transfers again within seconds of the store's return.
 * FerretDB goes away in `dual_write` (MongoDB the primary), PostgreSQL in `pg_primary`. The
 * walk-through does the same on three instances over many minutes; this is its fast form.
 */
describe.skipIf(!servicesReady)('an escrow app instance through a store outage', () => {
  let world: EscrowWorld;
  let mongoProxy: TcpProxy;
  let pgProxy: TcpProxy;
  let app: { url: string; process: ExampleProcess };
  let load: ExampleProcess | undefined;

  beforeAll(async () => {
    world = await createEscrowWorld('outage', 100);
    const migrated = await world.ferry(['migrate', world.mongoUri, '--yes']);
    expect(migrated.code, migrated.stderr).toBe(0);
    const m = await TcpProxy.for(world.mongoUri);
    mongoProxy = m.proxy;
    const p = await TcpProxy.for(world.targetUrl);
    pgProxy = p.proxy;
    // The app's runtime registers the domains when it starts; then they move to dual_write.
    app = await startApp(world, { mongo: m.url, pg: p.url });
    for (const domain of ['money', 'users']) {
      await setPhase(world.pool, domain, 'dual_write', { reason: 'outage test' });
      await followed(domain, 'dual_write');
    }
    const started = await startExample(
      'load.ts',
      [
        '--targets',
        app.url,
        '--mongo',
        world.mongoUri,
        '--rate',
        '40',
        '--read-rate',
        '10',
        '--out',
        outDir(),
      ],
      {},
      'started',
    );
    load = started.process;
  }, 600_000);

  afterAll(async () => {
    await load?.stop('SIGKILL');
    await app?.process.stop('SIGKILL');
    await mongoProxy?.stop();
    await pgProxy?.stop();
    await world?.close();
  });

  const outDir = () => path.join(world.dir, 'load-out');
  const acknowledged = async () =>
    (await readFile(path.join(outDir(), 'acks.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean)
      .length;

  /** The load generator's attempts so far, counted by HTTP status (0: no answer). */
  async function answers(): Promise<string> {
    const lines = (await readFile(path.join(outDir(), 'requests.jsonl'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean);
    const counts: Record<string, number> = {};
    for (const line of lines) {
      const status = String((JSON.parse(line) as { status: number }).status);
      counts[status] = (counts[status] ?? 0) + 1;
    }
    return JSON.stringify(counts);
  }

  /** Resolves with the ms it took until `more` new transfers were acknowledged; throws after `withinMs`. */
  async function acknowledgesAgain(more: number, withinMs: number): Promise<number> {
    const started = Date.now();
    const target = (await acknowledged()) + more;
    while ((await acknowledged()) < target) {
      if (Date.now() - started > withinMs)
        throw new Error(
          `fewer than ${more} new acknowledgements within ${withinMs} ms; answers so far: ${await answers()}\napp stderr:\n${app.process.stderr()}\nload stderr:\n${load?.stderr()}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
    return Date.now() - started;
  }

  /** `/health` answers within `withinMs` (retried until then). */
  async function healthy(withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const status = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`/health did not answer within ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function followed(domain: string, phase: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const health = (await (await fetch(`${app.url}/health`)).json()) as { phases: Record<string, string> };
      if (health.phases[domain] === phase) return;
      if (Date.now() > deadline) throw new Error(`the app did not follow ${domain} to ${phase}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Acknowledgements under way, then the store behind `proxy` away for 5 s (health checked all
   * along), then acknowledgements again: generous limits for a loaded two-core machine (it took
   * 1–21 s there); a wedged instance never gets there.
   */
  async function throughOutage(proxy: TcpProxy, store: string): Promise<void> {
    await acknowledgesAgain(20, 60_000);
    await proxy.stop();
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      // The instance itself stays up while a store is away: its health answers at once.
      await healthy(3000);
      await new Promise((r) => setTimeout(r, 500));
    }
    await proxy.start();
    const first = await acknowledgesAgain(1, 60_000);
    const ms = await acknowledgesAgain(20, 60_000);
    console.log(`${store}: first acknowledgement ${first} ms after it came back, 20 more in ${ms} ms`);
  }

  it('acknowledges transfers again within seconds after FerretDB was away for 5 s in dual_write', async () => {
    await throughOutage(mongoProxy, 'FerretDB in dual_write');
  }, 240_000);

  it('acknowledges transfers again within seconds after PostgreSQL was away for 5 s in pg_primary', async () => {
    const reconciled = await world.ferry(['reconcile', world.mongoUri]);
    expect(reconciled.code, reconciled.stdout + reconciled.stderr).toBe(0);
    await setPhase(world.pool, 'money', 'pg_read', { reason: 'outage test' });
    await followed('money', 'pg_read');
    await setPhase(world.pool, 'money', 'pg_primary', { reason: 'outage test' });
    await followed('money', 'pg_primary');
    await throughOutage(pgProxy, 'PostgreSQL in pg_primary');
  }, 240_000);
});
