import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnFerry } from '../support/cli.js';
import { createTestDatabase, postgresUrl } from '../support/services.js';
import { type Browser, chromiumAvailable, screenshot } from './support/browser.js';
import { openDashboardSession, type RunningDashboard } from './support/dashboard-server.js';
import { writeGeneratedOrders } from './support/generated-orders.js';

/**
 * Issue 16: while a backfill of generated documents runs in another process (the real CLI),
 * the dashboard's progress advances, and what it shows is never more than a second behind
 * `ferry.checkpoints`. A million documents by default (about a minute and a half here under
 * load); FERRY_TEST_DASHBOARD_DOCS sets another count.
 */
const DOCS = Number(process.env.FERRY_TEST_DASHBOARD_DOCS ?? 1_000_000);
const ready = postgresUrl() !== undefined && chromiumAvailable;

interface Reading {
  readonly at: number;
  readonly read: number;
}

describe.skipIf(!ready)('the dashboard during a backfill in another process', () => {
  let target: { url: string; drop: () => Promise<void> };
  let dashboard: RunningDashboard;
  let browser: Browser;
  let closeSession: (() => Promise<void>) | undefined;
  let sourceDir: string;

  beforeAll(async () => {
    target = await createTestDatabase('dash_backfill');
    sourceDir = await writeGeneratedOrders(DOCS);
    ({ dashboard, browser, close: closeSession } = await openDashboardSession(target.url));
  }, 600_000);

  afterAll(async () => {
    await closeSession?.();
    await target?.drop();
    if (sourceDir) await rm(sourceDir, { recursive: true, force: true });
  });

  it('shows the orders advancing, never more than a second behind ferry.checkpoints, and ends complete', async () => {
    const { page } = browser;
    await page.goto(dashboard.url);
    await page.waitForSelector('#live[data-state="live"]');

    // The truth, sampled every 50 ms on a connection of its own.
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    const truth: Reading[] = [];
    let sampling = true;
    const sampler = (async () => {
      let exists = false;
      while (sampling) {
        // Checked first: a statement naming a table that does not exist yet fails to parse.
        exists ||= (await client.query(`select to_regclass('ferry.checkpoints') as t`)).rows[0].t !== null;
        const { rows } = exists
          ? await client.query<{ read: string }>(
              `select read from ferry.checkpoints where schema = 'public' and collection = 'orders'`,
            )
          : { rows: [] };
        truth.push({ at: Date.now(), read: Number(rows[0]?.read ?? 0) });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    sampler.catch(() => {});

    const child = spawnFerry(['backfill', '--target', target.url], sourceDir);
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let running = true;
    void exited.then(() => {
      running = false;
    });
    const shown: Reading[] = [];
    let rateSeen = false;
    let midShot = false;
    try {
      while (running) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        const row = page.locator('[data-collection="public.orders"]');
        if ((await row.count()) === 0) continue;
        const at = Date.now();
        const read = Number(await row.getAttribute('data-read'));
        shown.push({ at, read });
        const complete = (await row.getAttribute('data-complete')) === 'true';
        if (!complete && read > 0) {
          const docsPerSecond = (await row.locator('td').nth(5).textContent()) ?? '';
          if (/\d/.test(docsPerSecond)) rateSeen = true;
          if (!midShot && read > DOCS / 3) {
            midShot = true;
            await screenshot(page, 'backfill-running');
          }
        }
      }
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      sampling = false;
      await sampler;
      await client.end();
    }

    // It advanced: several different, increasing values while the load ran.
    const values = [...new Set(shown.map((s) => s.read))];
    expect(values.length).toBeGreaterThanOrEqual(3);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(rateSeen, 'the docs/s column showed a rate while loading').toBe(true);

    // Within a second: what the page shows at time t is at least what the checkpoint held at
    // t - 1 s, and never more than the checkpoint holds by then.
    for (const reading of shown) {
      const before = truth.filter((t) => t.at <= reading.at - 1000).at(-1);
      const after = truth.find((t) => t.at >= reading.at);
      if (before !== undefined)
        expect(reading.read, `shown at ${reading.at}`).toBeGreaterThanOrEqual(before.read);
      if (after !== undefined) expect(reading.read, `shown at ${reading.at}`).toBeLessThanOrEqual(after.read);
    }

    // The end: both collections complete, counts equal to the checkpoints.
    const orders = page.locator('[data-collection="public.orders"][data-complete="true"]');
    await orders.waitFor({ timeout: 10_000 }).catch(async (error: unknown) => {
      await screenshot(page, 'backfill-failed');
      throw error;
    });
    expect(Number(await orders.getAttribute('data-read'))).toBe(DOCS);
    await expect
      .poll(async () => page.locator('[data-collection="public.customers"]').getAttribute('data-read'))
      .toBe('10');
    await expect.poll(async () => page.locator('[data-tile="Backfill"] .v').textContent()).toBe('2/2');
    await screenshot(page, 'backfill-done');
  }, 900_000);
});
