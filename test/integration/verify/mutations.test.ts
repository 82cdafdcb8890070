import path from 'node:path';
import type { Document } from 'bson';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import type { VerifyResult } from '../../../src/verify/types.js';
import { runFerry } from '../../support/cli.js';
import { createTables, loadDocuments, openLoaderPool } from '../../support/load-rows.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { orderDocuments, ordersPlan, writeConfig, writeOrdersFile } from './support/orders.js';

/**
 * The eight corruptions, each in its own schema of a real PostgreSQL database loaded
 * from 3000 orders: `ferry verify` must exit 1 and name the right `_id`, classification and
 * field path. A clean schema must verify with exit 0.
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

describe.skipIf(!url)('ferry verify finds each corruption of a loaded collection', () => {
  let db: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  let file: string;
  let docs: Document[];

  beforeAll(async () => {
    db = await createTestDatabase('verify_mutations');
    pool = await openLoaderPool(db.url);
    docs = orderDocuments(3000);
    file = await writeOrdersFile(docs);
    await writeConfig(path.dirname(file));
    for (const schema of ['clean', ...MUTATIONS]) {
      await createTables(pool, plan, schema);
      await loadDocuments(pool, plan, schema, 'orders', docs);
    }
  }, 600_000);

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function verifyJson(schema: string, ...args: string[]) {
    const run = await runFerry(['verify', file, '--target', db.url, '--schema', schema, '--json', ...args], {
      cwd: path.dirname(file),
    });
    return { code: run.code, stderr: run.stderr, result: JSON.parse(run.stdout) as VerifyResult };
  }

  /** The n-th loaded order satisfying `where` (the file order is shuffled, so any is fine). */
  function pick(where: (d: Document) => boolean): Document {
    return docs.find((d) => !String(d.customer).includes('\u0000') && where(d))!;
  }
  const uuid = (d: Document) => objectIdToUuid(d._id);
  const hex = (d: Document) => d._id.toHexString() as string;

  it('a clean load with one reject is "incomplete" with exit 1, and exit 0 with --accept-rejects', async () => {
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

  it('a changed numeric value in a child table is a content difference at items.N.qty', async () => {
    const d = pick(() => true);
    await pool.query('update child_value.orders_items set qty = qty + 1 where parent_id = $1 and idx = 1', [
      uuid(d),
    ]);
    const { code, result } = await verifyJson('child_value');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'items.1.qty', kind: 'value' }] },
    ]);
  });

  it('a rounded decimal is a content difference at total', async () => {
    const d = pick((x) => !String(x.total).endsWith('.00'));
    await pool.query('update round.orders set total = round(total) where id = $1', [uuid(d)]);
    const { code, result } = await verifyJson('round');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'total', kind: 'value' }] },
    ]);
  });

  it('a deleted child row is reported at the array it was cut from', async () => {
    const d = pick(() => true);
    await pool.query('delete from delete_child.orders_items where parent_id = $1 and idx = 0', [uuid(d)]);
    const { code, result } = await verifyJson('delete_child');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'items', kind: 'rows_invalid' }] },
    ]);
  });

  it('two swapped array elements are content differences inside both elements', async () => {
    const d = pick(() => true);
    // Through a free idx, since (parent_id, idx) is the primary key.
    for (const [from, to] of [
      [0, -1],
      [1, 0],
      [-1, 1],
    ])
      await pool.query('update swap.orders_items set idx = $3 where parent_id = $1 and idx = $2', [
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

  it('extra root rows are extra_in_target with their _id, also one whose id Ferry never made', async () => {
    const ghost = '65f00000000000000000beef';
    await pool.query(`insert into extra_root.orders (id, customer) values ($1, 'ghost'), ($2, 'foreign')`, [
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

  it('a missing field turned into null is a content difference at that field, present only in the target', async () => {
    const d = pick((x) => x.note === undefined);
    await pool.query(
      `update "null".orders set _extra = coalesce(_extra, '{}') || '{"note": null}' where id = $1`,
      [uuid(d)],
    );
    const { code, result } = await verifyJson('null');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'note', kind: 'missing_left' }] },
    ]);
  });

  it('a date altered by 1 ms is a content difference at placed', async () => {
    const d = pick(() => true);
    await pool.query(`update date.orders set placed = placed + interval '1 millisecond' where id = $1`, [
      uuid(d),
    ]);
    const { code, result } = await verifyJson('date');
    expect(code).toBe(1);
    expect(result.collections[0]!.differences).toEqual([
      { kind: 'content', id: hex(d), fields: [{ path: 'placed', kind: 'value' }] },
    ]);
  });

  it('a value changed inside the _extra catch-all is a content difference at its path', async () => {
    const d = pick(() => true);
    await pool.query(
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
