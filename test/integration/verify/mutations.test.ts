import path from 'node:path';
import type { Document } from 'bson';
import { describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openSource } from '../../../src/sources/open.js';
import type { VerifyResult } from '../../../src/verify/types.js';
import { runFerry } from '../../support/cli.js';
import { test as base } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { orderDocuments, ordersPlan, writeConfig, writeOrdersFile } from './support/orders.js';

/**
 * The eight corruptions, each in its own schema of a real PostgreSQL database that
 * the backfill loaded from 3000 orders: `ferry verify` must exit 1 and name the right `_id`,
 * classification and field path. A clean schema must verify with exit 0.
 */
const url = postgresUrl();
const plan = parsePlan(ordersPlan);
const MUTATIONS = [
  'child_value',
  'round',
  'delete_child',
  'swap',
  'extra_root',
  'null',
  'date',
  'extra',
] as const;

const docs = orderDocuments(3000);

type VerifyJson = (
  schema: string,
  ...args: string[]
) => Promise<{ code: number; stderr: string; result: VerifyResult }>;

const test = base.extend<{ verifyJson: VerifyJson }>({
  /**
   * `ferry verify --json` of one schema against the orders file, after the real backfill
   * loaded the orders into a clean schema and one schema per corruption.
   */
  verifyJson: [
    async ({ db, pgUrl }, use) => {
      const file = await writeOrdersFile(docs);
      await writeConfig(path.dirname(file));
      const source = await openSource(file);
      try {
        await backfill({ source, target: db, plan, schemas: ['clean', ...MUTATIONS] });
      } finally {
        await source.close();
      }
      await use(async (schema, ...args) => {
        const run = await runFerry(
          ['verify', file, '--target', pgUrl, '--schema', schema, '--json', ...args],
          {
            cwd: path.dirname(file),
          },
        );
        return { code: run.code, stderr: run.stderr, result: JSON.parse(run.stdout) as VerifyResult };
      });
    },
    { scope: 'file' },
  ],
});

describe.skipIf(!url)('ferry verify finds each corruption of a loaded collection', () => {
  /** The n-th loaded order satisfying `where` (the file order is shuffled, so any is fine). */
  function pick(where: (d: Document) => boolean): Document {
    return docs.find((d) => !String(d.customer).includes('\u0000') && where(d))!;
  }
  const uuid = (d: Document) => objectIdToUuid(d._id);
  const hex = (d: Document) => d._id.toHexString() as string;

  test('a clean load with one reject is "incomplete" with exit 1, and exit 0 with --accept-rejects', async ({
    verifyJson,
  }) => {
    const { code, result } = await verifyJson('clean');
    expect(code).toBe(1);
    expect(result).toMatchObject({ verdict: 'incomplete', rejected: 1, ok: false });
    const accepted = await verifyJson('clean', '--accept-rejects');
    expect(accepted.code).toBe(0);
    const orders = result.collections[0]!;
    expect(orders).toMatchObject({
      sourceCount: 3001,
      targetCount: 3000,
      rejected: 1,
      matched: 3000,
      missing: 0,
      extra: 0,
      content: 0,
      ok: true,
    });
    expect(accepted.result.ok).toBe(true);
  });

  test('a changed numeric value in a child table is a content difference at items.N.qty', async ({
    verifyJson,
    db,
  }) => {
    const d = pick(() => true);
    await db.query('update child_value.orders_items set qty = qty + 1 where parent_id = $1 and idx = 1', [
      uuid(d),
    ]);
    const { code, result } = await verifyJson('child_value');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'items.1.qty', kind: 'value' }] },
    ]);
  });

  test('a rounded decimal is a content difference at total', async ({ verifyJson, db }) => {
    const d = pick((x) => !String(x.total).endsWith('.00'));
    await db.query('update round.orders set total = round(total) where id = $1', [uuid(d)]);
    const { code, result } = await verifyJson('round');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'total', kind: 'value' }] },
    ]);
  });

  test('a deleted child row is reported at the array it was cut from', async ({ verifyJson, db }) => {
    const d = pick(() => true);
    await db.query('delete from delete_child.orders_items where parent_id = $1 and idx = 0', [uuid(d)]);
    const { code, result } = await verifyJson('delete_child');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'items', kind: 'rows_invalid' }] },
    ]);
  });

  test('two swapped array elements are content differences inside both elements', async ({
    verifyJson,
    db,
  }) => {
    const d = pick(() => true);
    // Through a free idx, since (parent_id, idx) is the primary key.
    for (const [from, to] of [
      [0, -1],
      [1, 0],
      [-1, 1],
    ])
      await db.query('update swap.orders_items set idx = $3 where parent_id = $1 and idx = $2', [
        uuid(d),
        from,
        to,
      ]);
    const { code, result } = await verifyJson('swap');
    expect(code).toBe(1);
    const [diff, ...rest] = result.collections[0]!.differences;
    expect(rest).toEqual([]);
    expect(diff).toMatchObject({ kind: 'content', id: hex(d) });
    expect(diff!.fields!.map((f) => f.path)).toEqual(expect.arrayContaining(['items.0.sku', 'items.1.sku']));
  });

  test('extra root rows are extra_in_target with their _id, also one whose id Ferry never made', async ({
    verifyJson,
    db,
  }) => {
    const ghost = '65f00000000000000000beef';
    await db.query(`insert into extra_root.orders (id, customer) values ($1, 'ghost'), ($2, 'foreign')`, [
      objectIdToUuid(ghost),
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    ]);
    const { code, result } = await verifyJson('extra_root');
    expect(code).toBe(1);
    const orders = result.collections[0]!;
    expect(orders.differences).toEqual(
      expect.arrayContaining([
        { kind: 'extra_in_target', id: ghost },
        { kind: 'extra_in_target', id: '0f8fad5b-d9cb-469f-a165-70867728950e' },
      ]),
    );
    expect(orders).toMatchObject({ extra: 2, missing: 0, content: 0, countsAgree: false, ok: false });
  });

  test('a missing field turned into null is a content difference at that field, present only in the target', async ({
    verifyJson,
    db,
  }) => {
    const d = pick((x) => x.note === undefined);
    await db.query(
      `update "null".orders set _extra = coalesce(_extra, '{}') || '{"note": null}' where id = $1`,
      [uuid(d)],
    );
    const { code, result } = await verifyJson('null');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'note', kind: 'missing_left' }] },
    ]);
  });

  test('a date altered by 1 ms is a content difference at placed', async ({ verifyJson, db }) => {
    const d = pick(() => true);
    await db.query(`update date.orders set placed = placed + interval '1 millisecond' where id = $1`, [
      uuid(d),
    ]);
    const { code, result } = await verifyJson('date');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'placed', kind: 'value' }] },
    ]);
  });

  test('a value changed inside the _extra catch-all is a content difference at its path', async ({
    verifyJson,
    db,
  }) => {
    const d = pick(() => true);
    await db.query(
      `update extra.orders set _extra = jsonb_set(_extra, '{meta,source}', '"elsewhere"') where id = $1`,
      [uuid(d)],
    );
    const { code, result } = await verifyJson('extra');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'meta.source', kind: 'value' }] },
    ]);
  });
});
