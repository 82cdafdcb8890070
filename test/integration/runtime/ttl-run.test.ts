import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { beforeAll, describe, expect } from 'vitest';
import { buildServer } from '../../../src/serve/server.js';
import { runFerry, spawnFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';
import { postgresUrl } from '../../support/services.js';
import { oid, sql, writeSource } from '../load/support.js';

const HOUR = 3_600_000;

/**
 * Sessions expire an hour after `createdAt` (with their events, a child table); notifications
 * expire a minute after `sentAt`, but only promotions (a partial TTL index).
 */
const mapping = planOf(
  collection(
    'sessions',
    [
      table('sessions', [objectIdColumn, col('created_at', ['createdAt'], 'timestamptz', 'date')]),
      child('sessions_events', 'sessions', ['events'], 'array', [col('what', ['what'], 'text', 'string')]),
    ],
    [{ name: 'createdAt_1', key: { createdAt: 1 }, expireAfterSeconds: 3600 }],
  ),
  collection(
    'notifications',
    [
      table('notifications', [
        objectIdColumn,
        col('kind', ['kind'], 'text', 'string'),
        col('sent_at', ['sentAt'], 'timestamptz', 'date'),
      ]),
    ],
    [
      {
        name: 'sentAt_1',
        key: { sentAt: 1 },
        expireAfterSeconds: 60,
        partialFilterExpression: { kind: 'promo' },
      },
    ],
  ),
);

const now = Date.now();
// 25 sessions two hours old (expired), 10 ten minutes old (not yet), 5 without a date (never).
const sessions = Array.from({ length: 40 }, (_, i) => ({
  _id: oid(i, 3),
  ...(i < 35 && { createdAt: new Date(i < 25 ? now - 2 * HOUR : now - HOUR / 6) }),
  events: [{ what: `login ${i}` }, { what: `view ${i}` }],
}));
// 20 old notifications: the 10 promotions expire, the 10 receipts stay.
const notifications = Array.from({ length: 20 }, (_, i) => ({
  _id: oid(i, 4),
  kind: i % 2 === 0 ? 'promo' : 'receipt',
  sentAt: new Date(now - 2 * HOUR),
}));

async function ids(url: string, tableName: string): Promise<string[]> {
  const rows = await sql<{ id: string }>(url, `select id::text from public.${tableName} order by id`);
  return rows.map((r) => r.id);
}

describe.skipIf(!postgresUrl())('ferry ttl run', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = await writeSource({ sessions, notifications });
    await writeFile(path.join(cwd, 'ferry.config.ts'), `export default ${JSON.stringify({ mapping })};\n`);
  });

  test('removes exactly the expired rows, respecting a partial filter, in more than one batch, and status shows the run', async ({
    pgUrl: url,
  }) => {
    const load = await runFerry(['backfill', '--target', url, '--source', cwd, '--json'], { cwd });
    expect(load.code, load.stderr).toBe(0);
    const before = { sessions: await ids(url, 'sessions'), notifications: await ids(url, 'notifications') };
    expect(before.sessions).toHaveLength(40);

    const result = await runFerry(['ttl', 'run', '--batch-size', '7', '--target', url, '--json'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const { runs } = JSON.parse(result.stdout) as {
      runs: {
        removed: number;
        batches: number;
        ok: boolean;
        rules: { collection: string; removed: number; batches: number }[];
      }[];
    };
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ removed: 35, ok: true });
    // 25 expired sessions in batches of 7: 7, 7, 7, 4; 10 promotions: 7, 3.
    expect(runs[0]?.rules).toEqual([
      expect.objectContaining({ collection: 'sessions', removed: 25, batches: 4 }),
      expect.objectContaining({ collection: 'notifications', removed: 10, batches: 2 }),
    ]);

    const remainingSessions = new Set(
      (await sql<{ id: string }>(url, 'select id::text from public.sessions')).map((r) => r.id),
    );
    expect(remainingSessions.size).toBe(15);
    const kept = await sql<{ n: number }>(
      url,
      `select count(*)::int as n from public.sessions where created_at is null or created_at > now() - interval '1 hour'`,
    );
    expect(kept).toEqual([{ n: 15 }]);
    // The events of removed sessions went with them (the parent key cascades); the others stay.
    expect(await sql(url, 'select count(*)::int as n from public.sessions_events')).toEqual([{ n: 30 }]);
    expect(
      await sql(url, `select kind, count(*)::int as n from public.notifications group by kind order by kind`),
    ).toEqual([{ kind: 'receipt', n: 10 }]);

    const recorded = await sql<{ removed: string; batches: number; finished: boolean }>(
      url,
      'select removed::text, batches, finished_at is not null as finished from ferry.ttl_runs',
    );
    expect(recorded).toEqual([{ removed: '35', batches: 6, finished: true }]);

    const status = await runFerry(['status', '--json', '--target', url], { cwd });
    expect(status.code, status.stderr).toBe(0);
    const { runtime } = JSON.parse(status.stdout) as { runtime: { lastTtl: Record<string, unknown> } };
    expect(runtime.lastTtl).toMatchObject({
      removed: 35,
      batches: 6,
      ok: true,
      rules: [
        { collection: 'sessions', source: 'createdAt_1', removed: 25 },
        { collection: 'notifications', source: 'sentAt_1', removed: 10 },
      ],
    });
    const text = await runFerry(['status', '--target', url], { cwd });
    expect(text.stdout).toMatch(
      /last TTL run: +run \d+, finished, 35 row\(s\) removed \(sessions 25, notifications 10\)/,
    );
    // ferry serve's /metrics reads the same snapshot.
    const server = await buildServer({ target: url });
    try {
      const metrics = parsePrometheusText((await server.inject({ url: '/metrics' })).body);
      expect(sampleValue(metrics, 'ferry_ttl_rows_removed', { collection: 'sessions' })).toBe(25);
      expect(sampleValue(metrics, 'ferry_ttl_rows_removed', { collection: 'notifications' })).toBe(10);
    } finally {
      await server.close();
    }

    // Nothing left to expire: a second run removes nothing.
    const again = await runFerry(['ttl', 'run', '--target', url, '--json'], { cwd });
    expect(JSON.parse(again.stdout).runs[0].removed).toBe(0);
  });

  test('skips a row an application holds locked instead of waiting for it, and removes it on the next run', async ({
    pgUrl: url,
  }) => {
    await sql(
      url,
      `insert into public.sessions (id, created_at) select gen_random_uuid(), now() - interval '3 hours' from generate_series(1, 5)`,
    );
    const app = new pg.Client({ connectionString: url });
    await app.connect();
    try {
      await app.query('begin');
      const locked = await app.query<{ id: string }>(
        `select id::text from public.sessions where created_at < now() - interval '2 hours' limit 1 for update`,
      );
      const started = Date.now();
      const run = await runFerry(['ttl', 'run', '--batch-size', '2', '--target', url, '--json'], { cwd });
      expect(run.code, run.stderr).toBe(0);
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(JSON.parse(run.stdout).runs[0].rules[0]).toMatchObject({ removed: 4 });
      expect(await ids(url, 'sessions')).toContain(locked.rows[0]?.id);
      await app.query('commit');
    } finally {
      await app.end();
    }
    const next = await runFerry(['ttl', 'run', '--target', url, '--json'], { cwd });
    expect(JSON.parse(next.stdout).runs[0].rules[0]).toMatchObject({ removed: 1 });
  });

  test('--watch runs again and again, and exits 0 on SIGTERM with every run recorded as finished', async ({
    pgUrl: url,
  }) => {
    const [{ n: runsBefore }] = (await sql<{ n: number }>(
      url,
      'select count(*)::int as n from ferry.ttl_runs',
    )) as [{ n: number }];
    const child = spawnFerry(['ttl', 'run', '--watch', '--interval', '1', '--target', url], cwd);
    const exited = once(child, 'exit');
    const deadline = Date.now() + 90_000;
    let runs = 0;
    while (Date.now() < deadline) {
      runs =
        (await sql<{ n: number }>(url, 'select count(*)::int as n from ferry.ttl_runs'))[0]!.n - runsBefore;
      if (runs >= 2) break;
      await sleep(250);
    }
    expect(runs).toBeGreaterThanOrEqual(2);
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(await sql(url, 'select count(*)::int as n from ferry.ttl_runs where finished_at is null')).toEqual(
      [{ n: 0 }],
    );
  });

  test('stops with exit 1 and TTL_DELETE_FAILED when a key from another collection still points at an expired row, and records the failed run', async ({
    ownPgUrl: url,
  }) => {
    const customers = [0, 1].map((i) => ({ _id: oid(i, 5), lastSeen: new Date(now - 2 * HOUR) }));
    const orders = [{ _id: oid(0, 6), customer: oid(0, 5) }];
    const dir = await writeSource({ customers, orders });
    const withReference = planOf(
      collection(
        'customers',
        [table('customers', [objectIdColumn, col('last_seen', ['lastSeen'], 'timestamptz', 'date')])],
        [{ name: 'lastSeen_1', key: { lastSeen: 1 }, expireAfterSeconds: 60 }],
      ),
      collection('orders', [
        table('orders', [
          objectIdColumn,
          col('customer', ['customer'], 'uuid', 'objectId', {
            references: { table: 'customers', column: 'id' },
          }),
        ]),
      ]),
    );
    await writeFile(
      path.join(dir, 'ferry.config.ts'),
      `export default ${JSON.stringify({ mapping: withReference })};\n`,
    );
    const load = await runFerry(['backfill', '--target', url, '--source', dir], { cwd: dir });
    expect(load.code, load.stderr).toBe(0);

    const run = await runFerry(['ttl', 'run', '--target', url, '--json'], { cwd: dir });
    expect(run.code).toBe(1);
    const { error } = JSON.parse(run.stdout) as {
      error: { code: string; message: string };
    };
    expect(error.code).toBe('TTL_DELETE_FAILED');
    expect(error.message).toContain('could not delete expired rows of public.customers');
    expect(await sql(url, 'select ok, error is not null as has_error from ferry.ttl_runs')).toEqual([
      { ok: false, has_error: true },
    ]);
    expect(await sql(url, 'select count(*)::int as n from public.customers')).toEqual([{ n: 2 }]);
  });
});
