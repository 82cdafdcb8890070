import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ObjectId } from 'bson';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPhase } from '../../src/runtime/domains.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { openSource } from '../../src/sources/open.js';
import type { TargetDatabase } from '../../src/target/target-database.js';
import { verify } from '../../src/verify/verify.js';
import {
  createRuntimeWorld,
  type RuntimeWorld,
  servicesReady,
  startRuntime,
  TcpProxy,
  waitFor,
} from '../integration/runtime/support.js';
import { runFerry } from '../support/cli.js';
import { repoRoot } from '../support/services.js';
import { type Browser, chromiumAvailable, screenshot } from './support/browser.js';
import { openDashboardSession, type RunningDashboard } from './support/dashboard-server.js';

/**
 * Issue 16: a domain in dual_write loses its secondary (the app reaches PostgreSQL through a
 * proxy the test stops), so the runtime records a gap for every write it could not mirror.
 * The dashboard lists them with their errors, and they disappear after `ferry reconcile`.
 *
 * (With MongoDB, the primary, stopped instead, writes fail for the user exactly as without
 * Ferry and nothing is gapped: outage-ferretdb.test.ts; so the secondary is the one to stop.)
 *
 * This test also takes the README's screenshot: with FERRY_UPDATE_SCREENSHOT=1 it writes
 * docs/dashboard.png, otherwise only test-output/, so a CI run leaves `git status` clean.
 */
const ready = servicesReady && chromiumAvailable;
const GAPPED = 12;
const README_SCREENSHOT = path.join(repoRoot, 'docs/dashboard.png');

describe.skipIf(!ready)('the dashboard with a domain in dual_write and open gaps', () => {
  let world: RuntimeWorld;
  let proxy: TcpProxy;
  let appPool: pg.Pool;
  let runtime: Runtime;
  let db: TargetDatabase;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let closeSession: (() => Promise<void>) | undefined;
  let configDir: string;

  beforeAll(async () => {
    world = await createRuntimeWorld('dashgaps', 200);
    const proxied = await TcpProxy.for(world.targetUrl);
    proxy = proxied.proxy;
    appPool = new pg.Pool({ connectionString: proxied.url, max: 6, connectionTimeoutMillis: 2000 });
    appPool.on('error', () => {});
    runtime = await startRuntime(world, { pg: appPool, phase: 'mongo' });
    await setPhase(world.pool, 'market', 'dual_write', {
      reason: 'backfill verified clean',
      actor: 'ops@ferry-test',
      figures: { verifyMismatches: 0, openGaps: 0 },
    });
    await runtime.refresh();
    configDir = await mkdtemp(path.join(tmpdir(), 'ferry-dashboard-gaps-'));
    await writeFile(
      path.join(configDir, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: world.sourceUri, mapping: world.plan })};\n`,
    );
    ({ db, dashboard, browser, close: closeSession } = await openDashboardSession(world.targetUrl));
  }, 600_000);

  afterAll(async () => {
    await closeSession?.();
    await runtime?.close();
    await appPool?.end().catch(() => {});
    await proxy?.stop();
    await world?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('lists each gap with its error while PostgreSQL was unreachable, and none after ferry reconcile', async () => {
    const { page } = browser;
    await page.goto(dashboard.url);
    await page.locator('[data-domain="market"][data-phase="dual_write"]').waitFor();
    await expect.poll(() => page.locator('[data-tile="Open gaps"] .v').textContent()).toBe('0');

    // The outage: every write succeeds on MongoDB; its mirror to PostgreSQL cannot.
    const requests = runtime.collection('purchaseRequests');
    const ids = (world.ids.get('purchaseRequests')! as ObjectId[]).slice(0, GAPPED);
    await proxy.stop();
    for (const [i, id] of ids.entries())
      await requests.updateOne({ _id: id }, { $set: { title: `during the outage ${i}` }, $inc: { __v: 1 } });
    await proxy.start();
    // Back up: the runtime moves the gaps it parked in MongoDB into ferry.gaps by itself.
    const open = async () =>
      (
        await world.pool.query<{ doc_id: string; error_code: string | null }>(
          `select doc_id, error_code from ferry.gaps where closed_at is null and collection = 'purchaseRequests'`,
        )
      ).rows;
    await waitFor(async () => (await open()).length >= GAPPED, 30_000);
    const stored = await open();

    const gapRows = page.locator('#gaps-body tr[data-gap]');
    await expect.poll(() => gapRows.count(), { timeout: 10_000 }).toBe(stored.length);
    for (const id of ids) {
      const row = page.locator(`#gaps-body tr[data-gap="${id.toHexString()}"]`);
      const cells = await row.locator('td').allTextContents();
      expect(cells[0]).toBe('purchaseRequests');
      expect(cells[2]).toBe('updateOne');
      const code = stored.find((g) => g.doc_id.includes(id.toHexString()))?.error_code;
      expect(code).toBeTruthy();
      expect(cells[3]).toContain(code!);
    }
    await expect
      .poll(() => page.locator('[data-tile="Open gaps"] .v').textContent())
      .toBe(String(stored.length));

    // What the gaps mean: PostgreSQL misses those writes, and verify says so (recorded).
    const source = await openSource(world.sourceUri);
    try {
      const result = await verify({ source, db, plan: world.plan, only: ['purchaseRequests', 'users'] });
      expect(result.verdict).toBe('mismatch');
    } finally {
      await source.close();
    }
    await page.locator(`#verify-body [data-difference="${ids[0]!.toHexString()} title"]`).waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await readmeScreenshot(browser);
    await screenshot(page, 'gaps-open-full-page', { fullPage: true });

    const reconciled = await runFerry(['reconcile', '--target', world.targetUrl, '--json'], {
      cwd: configDir,
    });
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(JSON.parse(reconciled.stdout)).toMatchObject({ open: 0 });
    await expect.poll(() => gapRows.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => page.locator('[data-tile="Open gaps"] .v').textContent()).toBe('0');
    expect(await page.locator('#gaps-body').textContent()).toContain('No open gap');
    await screenshot(page, 'gaps-reconciled');
  }, 600_000);
});

/**
 * The README's picture of the dashboard: always under test-output/, and in docs/ only when
 * asked, so the suite never rewrites a committed file.
 */
async function readmeScreenshot(browser: Browser): Promise<void> {
  const file = await screenshot(browser.page, 'dashboard');
  const { size } = await stat(file);
  expect(size, 'the README screenshot stays small').toBeLessThan(200_000);
  if (process.env.FERRY_UPDATE_SCREENSHOT === '1') {
    await mkdir(path.dirname(README_SCREENSHOT), { recursive: true });
    await copyFile(file, README_SCREENSHOT);
  }
}
