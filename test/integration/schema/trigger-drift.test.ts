import { describe, expect } from 'vitest';
import type { PlanInput } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';
import { appFolder } from './support.js';

/** A ledger (append-only) and orders, each with a child table: every table has capture triggers. */
const mapping: PlanInput = planOf(
  {
    ...collection('ledger', [
      table('ledger', [objectIdColumn, col('amount', ['amount'], 'bigint', 'long')]),
      child('ledger_postings', 'ledger', ['postings'], 'array', [col('note', ['note'], 'text', 'string')]),
    ]),
    appendOnly: true,
  },
  collection('orders', [
    table('orders', [objectIdColumn, col('note', ['note'], 'text', 'string')]),
    child('orders_items', 'orders', ['items'], 'array', [col('sku', ['sku'], 'text', 'string')]),
  ]),
);

async function check(cwd: string, url: string) {
  const run = await runFerry(['schema', 'check', '--target', url, '--json'], { cwd });
  return {
    code: run.code,
    drift: (JSON.parse(run.stdout) as { drift: { kind: string; table: string; message: string }[] }).drift,
  };
}

describe.skipIf(!postgresUrl())('schema check and the triggers the mapping installs', () => {
  test('reports a capture trigger dropped or disabled by hand, and an append-only guard dropped by hand, naming the table and the trigger', async ({
    ownPgUrl: url,
  }) => {
    const cwd = await appFolder(mapping);
    const apply = await runFerry(['schema', 'apply', '--target', url, '--yes'], { cwd });
    expect(apply.code, apply.stderr).toBe(0);
    expect(await check(cwd, url)).toEqual({ code: 0, drift: [] });

    await sql(url, 'drop trigger ferry_capture_update on public.orders_items');
    await sql(url, 'alter table public.orders disable trigger ferry_capture_delete');
    await sql(url, 'drop trigger ferry_append_only on public.ledger_postings');
    const { code, drift } = await check(cwd, url);
    expect(code).toBe(1);
    expect(drift).toEqual([
      {
        kind: 'append_only_missing',
        schema: 'public',
        table: 'ledger_postings',
        message: expect.stringContaining('its trigger ferry_append_only is missing'),
      },
      {
        kind: 'capture_trigger_disabled',
        schema: 'public',
        table: 'orders',
        message: expect.stringContaining(
          'table public.orders has its capture trigger ferry_capture_delete disabled',
        ),
      },
      {
        kind: 'capture_trigger_missing',
        schema: 'public',
        table: 'orders_items',
        message: expect.stringContaining(
          'table public.orders_items lacks its capture trigger ferry_capture_update',
        ),
      },
    ]);
    const text = await runFerry(['schema', 'check', '--target', url], { cwd });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      '[capture_trigger_missing] table public.orders_items lacks its capture trigger ferry_capture_update: UPDATEs on public.orders_items are not recorded in ferry.outbox',
    );
  });
});
