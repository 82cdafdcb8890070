import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry, spawnFerry } from '../support/cli.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../support/services.js';
import { chromiumAvailable, screenshot } from './support/browser.js';
import { type DashboardSession, openDashboardSession } from './support/dashboard-server.js';

/**
 * Issue 16: a live MongoDB gives its counts up front, so while a backfill from it runs in
 * another process the page shows each collection's total and an ETA, not only a rate.
 */
const ready = postgresUrl() !== undefined && mongoUrl() !== undefined && chromiumAvailable;
const EVENTS = 40_000;

describe.skipIf(!ready)('the dashboard during a backfill from a live MongoDB', () => {
  let target: { url: string; drop: () => Promise<void> };
  let client: MongoClient;
  let source: string;
  let cwd: string;
  let session: DashboardSession;

  beforeAll(async () => {
    target = await createTestDatabase('dash_eta');
    const database = `ferry_dash_eta_${process.pid}`;
    client = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
    const events = client.db(database).collection('events');
    for (let i = 0; i < EVENTS; i += 5000)
      await events.insertMany(
        Array.from({ length: 5000 }, (_, j) => ({
          n: i + j,
          kind: `k${(i + j) % 7}`,
          at: new Date(1.7e12 + i + j),
        })),
      );
    const url = new URL(mongoUrl()!);
    url.pathname = `/${database}`;
    source = url.toString();
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-dash-eta-'));
    const inferred = await runFerry(['infer', source], { cwd });
    expect(inferred.code, inferred.stderr).toBe(0);
    session = await openDashboardSession(target.url);
  }, 600_000);

  afterAll(async () => {
    await session?.close();
    await client
      ?.db(new URL(source).pathname.slice(1))
      .dropDatabase()
      .catch(() => {});
    await client?.close();
    await target?.drop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('shows the collection’s total and an ETA while it loads', async () => {
    const { page } = session.browser;
    await page.goto(session.dashboard.url);
    await page.locator('#live[data-state="live"]').waitFor();
    const child = spawnFerry(['backfill', '--target', target.url], cwd);
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let running = true;
    void exited.then(() => {
      running = false;
    });
    const seen: { of: string; eta: string }[] = [];
    const row = page.locator('[data-collection="public.events"]');
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if ((await row.count()) === 0 || (await row.getAttribute('data-complete')) === 'true') continue;
      const cells = await row.locator('td').allTextContents();
      seen.push({ of: cells[4]!, eta: cells[6]! });
      if (seen.length === 6) await screenshot(page, 'backfill-eta');
    }
    const [code] = await exited;
    expect(code).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.of === '40,000')).toBe(true);
    expect(
      seen.some((s) => /^\d+ (s|min)/.test(s.eta)),
      JSON.stringify(seen),
    ).toBe(true);
    await page.locator('[data-collection="public.events"][data-complete="true"]').waitFor();
  }, 600_000);
});
