import { appendFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { EJSON, Int32 } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oid, sql } from '../integration/load/support.js';
import { runFerry } from '../support/cli.js';
import { createTestDatabase, postgresUrl } from '../support/services.js';
import { type Browser, chromiumAvailable, screenshot } from './support/browser.js';
import { openDashboardSession, type RunningDashboard, startDashboard } from './support/dashboard-server.js';
import { writeGeneratedOrders } from './support/generated-orders.js';

/**
 * Issue 16: after `ferry verify` finds an injected corruption, the page shows the mismatch
 * with its `_id` and field path, and links to the run's HTML report; rejects are listed with
 * their reason, code and `_id`, and their documents appear only with `showValues`. No
 * response carries the target's password.
 */
const ready = postgresUrl() !== undefined && chromiumAvailable;
const ORDERS = 2000;
/** The order whose `qty` is changed by SQL after the load. */
const CORRUPTED = oid(7, 2).toHexString();
/** A document PostgreSQL cannot store (a NUL in a string): rejected, with the reason. */
const REJECTED = oid(ORDERS + 1, 2).toHexString();

describe.skipIf(!ready)('the dashboard after a verify that found a corruption', () => {
  let target: { url: string; drop: () => Promise<void> };
  let dashboard: RunningDashboard;
  let browser: Browser;
  let closeSession: (() => Promise<void>) | undefined;
  let dir: string;
  let password: string;

  beforeAll(async () => {
    target = await createTestDatabase('dash_verify');
    password = decodeURIComponent(new URL(target.url).password);
    dir = await writeGeneratedOrders(ORDERS);
    await appendFile(
      path.join(dir, 'orders.jsonl'),
      `${EJSON.stringify({ _id: oid(ORDERS + 1, 2), customer: oid(1, 1), note: 'bad\u0000note', qty: new Int32(1), items: [] }, { relaxed: false })}\n`,
    );
    const load = await runFerry(['backfill', '--target', target.url], { cwd: dir });
    // A reject is not success (DESIGN.md invariant 2): the load says so and exits 1.
    expect(load.code, load.stderr).toBe(1);
    await sql(
      target.url,
      `update public.orders set qty = qty + 1 where id = ferry.oid_to_uuid('${CORRUPTED}')`,
    );
    const check = await runFerry(['verify', '--target', target.url], { cwd: dir });
    expect(check.code, check.stderr).toBe(1);
    ({ dashboard, browser, close: closeSession } = await openDashboardSession(target.url));
  }, 600_000);

  afterAll(async () => {
    await closeSession?.();
    await target?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the mismatch with its _id and field path, and the run’s HTML report names them too', async () => {
    const { page } = browser;
    await page.goto(dashboard.url);
    const run = page.locator('#verify-body .run').first();
    await run.waitFor();
    await expect.poll(() => run.locator('.pill').first().textContent()).toBe('mismatch');
    const difference = run.locator(`[data-difference="${CORRUPTED} qty"]`);
    await difference.waitFor();
    expect(await difference.locator('[data-field="id"]').textContent()).toBe(CORRUPTED);
    expect(await difference.locator('[data-field="path"]').textContent()).toBe('qty');
    expect(await difference.locator('[data-field="kind"]').textContent()).toBe('content: value');
    await expect.poll(() => page.locator('[data-tile="Last verify"] .v').textContent()).toBe('mismatch');
    await screenshot(page, 'verify-mismatch');
    // The outbox (state step 15) exists but nothing was captured: its figures are zeros and its
    // chart is drawn. The shadow tables (state step 17) exist but hold nothing: said so.
    await expect.poll(() => page.locator('#outbox-sub').textContent()).toContain('depth 0, lag –');
    await page.locator('#outbox-chart .uplot').waitFor();
    expect(await page.locator('#shadow-body').textContent()).toContain('no mismatch recorded');

    const href = await run.locator('a', { hasText: 'HTML report' }).getAttribute('href');
    const report = await page.request.get(new URL(href!, dashboard.url).toString());
    expect(report.status()).toBe(200);
    expect(report.headers()['content-type']).toContain('text/html');
    const html = await report.text();
    expect(html).toContain(CORRUPTED);
    expect(html).toContain('<code>qty</code>');
    expect(html).toContain('MISMATCH');
    expect(html).not.toContain(password);
  }, 300_000);

  it('lists the reject with its reason, code and _id, and hides its document without showValues', async () => {
    const { page } = browser;
    await page.goto(dashboard.url);
    const row = page.locator('#rejects-body tr[data-reject]').first();
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual(['orders', REJECTED, 'transform', 'STRING_CONTAINS_NUL']);
    expect(cells[5]).toMatch(/NUL/);
    await row.click();
    const detail = page.locator('#reject-detail dl');
    await detail.waitFor();
    expect(await detail.textContent()).toContain(REJECTED);
    expect(await detail.textContent()).toContain('STRING_CONTAINS_NUL');
    expect(await page.locator('#reject-detail').textContent()).toContain('The document is hidden');
    expect(await page.locator('#reject-detail pre').count()).toBe(0);
    await screenshot(page, 'reject-detail');

    const id = await row.getAttribute('data-reject');
    const api = await (
      await page.request.get(new URL(`api/dashboard/rejects/${id}`, dashboard.url).toString())
    ).json();
    expect(api).toMatchObject({ docId: REJECTED, code: 'STRING_CONTAINS_NUL' });
    expect(api).not.toHaveProperty('raw');
  }, 300_000);

  it('shows the rejected document with showValues', async () => {
    const revealing = await startDashboard({ targetUrl: target.url, showValues: true });
    try {
      const { page } = browser;
      await page.goto(revealing.url);
      const row = page.locator('#rejects-body tr[data-reject]').first();
      await row.click();
      const raw = page.locator('#reject-detail pre');
      await raw.waitFor();
      expect(await raw.textContent()).toContain(REJECTED);
      expect(await raw.textContent()).toContain('bad');
    } finally {
      await revealing.close();
    }
  }, 300_000);

  it('never sends the target’s password: not in the page, the snapshot, the events or the rejects', async () => {
    expect(password.length).toBeGreaterThan(0);
    const { page } = browser;
    await page.goto(dashboard.url);
    await page.locator('#verify-body .run').first().waitFor();
    expect(await page.content()).not.toContain(password);
    expect(await page.locator('#target').textContent()).toMatch(/^postgres:\/\/[^:]+:\*\*\*@/);
    for (const route of ['api/dashboard/snapshot', 'api/dashboard/rejects', '', 'assets/app.js']) {
      const response = await page.request.get(new URL(route, dashboard.url).toString());
      expect(response.status(), route).toBe(200);
      expect(await response.text(), route).not.toContain(password);
    }
    // One event of the live stream, read raw.
    const event = await page.evaluate(async () => {
      const response = await fetch('api/dashboard/events');
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('event: snapshot')) text += new TextDecoder().decode((await reader.read()).value);
      while (!text.slice(text.indexOf('event: snapshot')).includes('\n\n'))
        text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      return text;
    });
    expect(event).toContain('"generatedAt"');
    expect(event).not.toContain(password);
  }, 300_000);
});
