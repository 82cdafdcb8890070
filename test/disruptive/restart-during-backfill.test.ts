import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../src/load/backfill.js';
import { openSource } from '../../src/sources/open.js';
import { openTarget } from '../../src/target/open-target.js';
import type { TargetDatabase } from '../../src/target/target-database.js';
import { verify } from '../../src/verify/verify.js';
import { customers, orders, plan, sql, writeSource } from '../integration/load/support.js';
import { createTestDatabase, postgresUrl, repoRoot } from '../support/services.js';

/**
 * The retry schedule for connection loss outlasts a real server restart: the test PostgreSQL
 * cluster (the one under .services/ that this test itself uses) is stopped with
 * `pg_ctl stop -m fast` while a backfill commits its chunks, left down for a few seconds and
 * started again. Open connections die with 57P01, new ones are refused, then get 57P03 while
 * the server starts; the backfill must wait it out and finish with every document loaded once.
 *
 * It lives in test/disruptive/, a project that runs after every other one (vitest.config.ts):
 * stopping the cluster would cut the connections of test files running beside it.
 */
const available = postgresUrl() !== undefined;
const PG_DIR = path.join(repoRoot, '.services/pg');
const ORDERS = 12_000;
const DOWN_MS = 5_000;

describe.skipIf(!available)('a backfill while PostgreSQL restarts', () => {
  let url: string;
  let drop: () => Promise<void>;
  let db: TargetDatabase;

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('restart'));
    db = await openTarget(url);
  });
  afterAll(async () => {
    await ensureRunning();
    await db?.close();
    await drop?.();
  });

  it('waits out a pg_ctl restart and loads every document exactly once, and verify finds no difference', async () => {
    // The cluster restarted must be the one the test loads into, or the test proves nothing.
    expect(existsSync(path.join(PG_DIR, 'data/PG_VERSION'))).toBe(true);
    expect(new URL(url).port).toBe(readFileSync(path.join(PG_DIR, 'port'), 'utf8').trim());
    const startedBefore = await postmasterStart(url);

    const source = await writeSource({ customers: customers(10), orders: orders(ORDERS) });
    let restart: Promise<void> | undefined;
    const input = await openSource(source);
    let finishedAt: number;
    try {
      const summary = await backfill({
        source: input,
        target: db,
        plan,
        batchSize: 100,
        encodeWorkers: { threads: 0 },
        onProgress: (progress) => {
          // A fifth of the way into the big collection: many chunks before, many after.
          if (restart === undefined && progress.collection === 'orders' && progress.migrated >= ORDERS / 5)
            restart = stopAndStart();
        },
      });
      finishedAt = Date.now();
      expect(summary.collections.map((c) => [c.collection, c.phase])).toEqual([
        ['customers', 'done'],
        ['orders', 'done'],
      ]);
    } finally {
      await input.close();
    }
    expect(restart, 'the restart was never triggered').toBeDefined();
    await restart;

    // The server really restarted, and did so while the backfill was running.
    const startedAfter = await postmasterStart(url);
    expect(startedAfter).toBeGreaterThan(startedBefore);
    expect(startedAfter).toBeLessThan(finishedAt);

    const [counts] = await sql<{
      orders: string;
      distinct_orders: string;
      items: string;
      distinct_items: string;
    }>(
      url,
      `select (select count(*) from orders) as orders, (select count(distinct id) from orders) as distinct_orders,
              (select count(*) from orders_items) as items,
              (select count(distinct (parent_id, idx)) from orders_items) as distinct_items`,
    );
    const expectedItems = orders(ORDERS).reduce((n, d) => n + (d.items as unknown[]).length, 0);
    expect(counts).toEqual({
      orders: String(ORDERS),
      distinct_orders: String(ORDERS),
      items: String(expectedItems),
      distinct_items: String(expectedItems),
    });
    const checkpoints = await sql(
      url,
      'select collection, read::int, migrated::int, rejected::int, complete from ferry.checkpoints order by 1',
    );
    expect(checkpoints).toEqual([
      { collection: 'customers', read: 10, migrated: 10, rejected: 0, complete: true },
      { collection: 'orders', read: ORDERS, migrated: ORDERS, rejected: 0, complete: true },
    ]);

    const again = await openSource(source);
    try {
      const result = await verify({ source: again, db, plan, level: 'deep' });
      expect(result.collections.map((c) => [c.collection, c.matched, c.missing, c.extra, c.content])).toEqual(
        [
          ['customers', 10, 0, 0, 0],
          ['orders', ORDERS, 0, 0, 0],
        ],
      );
      expect(result.ok).toBe(true);
    } finally {
      await again.close();
    }
  });
});

/** When the server last started, in ms since the epoch. */
async function postmasterStart(url: string): Promise<number> {
  const [row] = await sql<{ started: Date }>(url, 'select pg_postmaster_start_time() as started');
  return row!.started.getTime();
}

/** Run pg_ctl on the test cluster as scripts/services.sh does (as `postgres` when we are root). */
function pgCtl(...args: string[]): Promise<void> {
  const pgCtlPath = ['/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']
    .map((dir) => path.join(dir, 'pg_ctl'))
    .find((file) => existsSync(file));
  if (pgCtlPath === undefined) return Promise.reject(new Error('pg_ctl (PostgreSQL 15) not found'));
  // `restart` reuses the options of the last start (postmaster.opts): the same port and socket.
  const command = [pgCtlPath, '-D', path.join(PG_DIR, 'data'), '-l', path.join(PG_DIR, 'server.log')];
  const [file, ...rest] =
    process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...command] : command;
  return new Promise((resolve, reject) => {
    // Detached: the restarted server must outlive this test process.
    const child = spawn(file!, [...rest, '-w', '-t', '120', ...args], { stdio: 'ignore', detached: true });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_ctl ${args[0]} exited ${code}`)),
    );
  });
}

/**
 * A fast shutdown (open sessions get 57P01), five seconds down (connections refused: longer
 * than a schedule of a few quick tries can wait), then a start (57P03 until it is ready).
 */
async function stopAndStart(): Promise<void> {
  await pgCtl('stop', '-m', 'fast');
  await sleep(DOWN_MS);
  // On a stopped server, restart starts it with the options of its last start.
  await pgCtl('restart');
}

/** Whatever happened above, leave the cluster running for the other tests. */
async function ensureRunning(): Promise<void> {
  const running = await pgCtl('status').then(
    () => true,
    () => false,
  );
  // On a stopped server, restart starts it with the options of its last start.
  if (!running) await pgCtl('restart');
}
