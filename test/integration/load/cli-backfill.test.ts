import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Int32 } from 'bson';
import { describe, expect } from 'vitest';
import { prepareSchema } from '../../../src/load/schema-setup.js';
import { runFerry } from '../../support/cli.js';
import { test as base } from '../../support/fixtures.js';
import { planOf } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';
import { customers, orders, plan, planInput, sql, writeSource } from './support.js';

/**
 * `ferry backfill` and `ferry rejects list|show|retry` as a user runs them: a document that
 * breaks a CHECK is rejected at load, inspected, and loaded by `retry` once the CHECK is
 * fixed; the counts add up at every step; exit codes follow DESIGN.md.
 */
const available = postgresUrl() !== undefined;

/** An app folder whose config maps 300 orders, one breaking a CHECK on the prepared tables. */
const test = base.extend<{ cwd: string }>({
  cwd: [
    async ({ db, pgUrl }, use) => {
      const docs = orders(300);
      docs[42] = { ...docs[42], qty: new Int32(-3) } as (typeof docs)[number];
      const cwd = await writeSource({ customers: customers(10), orders: docs });
      await writeFile(
        path.join(cwd, 'ferry.config.ts'),
        `export default ${JSON.stringify({ source: cwd, mapping: planInput })};\n`,
      );
      await prepareSchema(db, plan, 'public', ['customers', 'orders']);
      await sql(pgUrl, 'alter table public.orders add constraint qty_not_negative check (qty >= 0)');
      await use(cwd);
    },
    { scope: 'file' },
  ],
});

describe.skipIf(!available)('ferry backfill and ferry rejects', () => {
  test('loads, rejects the bad document at load, and a retry after the fix resolves it', async ({
    pgUrl: url,
    cwd,
  }) => {
    const first = await runFerry(['backfill', '--target', url, '--batch-size', '64', '--json'], { cwd });
    // A rejected document is missing data: exit 1 until it is loaded.
    expect(first.code, first.stderr).toBe(1);
    const summary = JSON.parse(first.stdout) as {
      collections: { collection: string; read: number; migrated: number; rejected: number }[];
    };
    expect(summary.collections.find((c) => c.collection === 'orders')).toMatchObject({
      read: 300,
      migrated: 299,
      rejected: 1,
    });

    const listed = await runFerry(['rejects', 'list', '--target', url, '--json'], { cwd });
    const { rejects } = JSON.parse(listed.stdout) as {
      rejects: { id: number; stage: string; code: string }[];
    };
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ stage: 'load', code: 'LOAD_CONSTRAINT_VIOLATION' });

    const shown = await runFerry(['rejects', 'show', String(rejects[0]!.id), '--target', url, '--json'], {
      cwd,
    });
    expect(JSON.parse(shown.stdout)).toMatchObject({
      rawEncoding: 'ejson',
      raw: expect.stringContaining('"$numberInt":"-3"'),
    });

    const stillBad = await runFerry(['rejects', 'retry', '--target', url, '--json'], { cwd });
    expect(stillBad.code).toBe(1);
    expect(JSON.parse(stillBad.stdout)).toMatchObject({
      resolved: [],
      stillRejected: [{ id: rejects[0]!.id, stage: 'load' }],
    });

    await sql(url, 'alter table public.orders drop constraint qty_not_negative');
    const retried = await runFerry(['rejects', 'retry', '--target', url, '--json'], { cwd });
    expect(retried.code, retried.stderr).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ resolved: [rejects[0]!.id], stillRejected: [] });
    const [count] = await sql<{ n: string }>(url, 'select count(*) as n from public.orders');
    expect(count?.n).toBe('300');
    const [checkpoint] = await sql(
      url,
      `select read, migrated, rejected from ferry.checkpoints where collection = 'orders'`,
    );
    expect(checkpoint).toEqual({ read: '300', migrated: '300', rejected: '0' });
    const open = await runFerry(['rejects', 'list', '--target', url], { cwd });
    expect(open.stdout.trim()).toBe('no rejects');
  });

  test('says so when a second run has nothing to write', async ({ pgUrl: url, cwd }) => {
    const again = await runFerry(['backfill', '--target', url], { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing new to load');
    expect(again.stdout).toContain('migrated + rejected = read for every collection');
  });

  test('exits 1 when rejects exceed --max-rejects', async ({ pgUrl: url }) => {
    const docs = orders(100).map((d, i) => (i % 5 === 0 ? { ...d, note: 'nul\u0000' } : d));
    const dir = await writeSource({ orders: docs });
    await writeFile(
      path.join(dir, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: dir, mapping: planOf(planInput.collections[1]!) })};\n`,
    );
    const result = await runFerry(
      ['backfill', '--target', url, '--schema', 'limited', '--max-rejects', '3', '--json'],
      { cwd: dir },
    );
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ rejectsOverLimit: true, ok: false });
  });

  test('refuses --force without --yes when not on a terminal, and without a mapping suggests ferry infer', async ({
    pgUrl: url,
    cwd,
  }) => {
    const forced = await runFerry(['backfill', '--target', url, '--force'], { cwd });
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain('--yes');
    const bare = await writeSource({ orders: orders(3) });
    const unmapped = await runFerry(['backfill', bare, '--target', url], { cwd: bare });
    expect(unmapped.code).toBe(2);
    expect(unmapped.stderr).toContain('ferry infer');
  });
});
