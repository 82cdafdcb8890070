import { describe, expect } from 'vitest';
import { ensureFerryState, STATE_MIGRATIONS } from '../../../src/target/ferry-state.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';

const ROW_LEVEL_CAPTURE = STATE_MIGRATIONS.find((m) => m.name === 'row-level outbox capture')!;

/** Each capture trigger of `app.orders`: its name, whether it fires per row, its function. */
async function captureTriggers(db: TargetDatabase) {
  const { rows } = await db.query<{ name: string; per_row: boolean; fn: string }>(
    `select tgname::text as name, (tgtype & 1) = 1 as per_row, (select proname::text from pg_proc where oid = tgfoid) as fn
       from pg_trigger where tgrelid = 'app.orders'::regclass and tgname like 'ferry_capture_%' order by 1`,
  );
  return rows;
}

describe.skipIf(!postgresUrl())('the capture triggers of a database set up before state step 19', () => {
  test('become row-level when the state upgrades, and still record each entity once per transaction', async ({
    db,
  }) => {
    await ensureFerryState(
      db,
      STATE_MIGRATIONS.filter((m) => m.version < ROW_LEVEL_CAPTURE.version),
    );
    await db.query('create schema app');
    await db.query('create table app.orders (id integer primary key, status text)');
    await db.query(
      'create table app.orders_items (parent_id integer references app.orders, idx integer, sku text)',
    );
    // The triggers as step 15's `ferry schema apply` installed them: per statement, over transition tables.
    for (const [event, rows] of [
      ['insert', 'new table as new_rows'],
      ['update', 'old table as old_rows new table as new_rows'],
      ['delete', 'old table as old_rows'],
    ])
      for (const [table, key] of [
        ['orders', 'id'],
        ['orders_items', 'parent_id'],
      ])
        await db.query(
          `create trigger ferry_capture_${event} after ${event} on app.${table} referencing ${rows}
             for each statement execute function ferry.outbox_capture('orders', '${key}')`,
        );
    expect((await captureTriggers(db)).every((t) => !t.per_row)).toBe(true);

    expect(await ensureFerryState(db)).toEqual(
      STATE_MIGRATIONS.filter((m) => m.version >= ROW_LEVEL_CAPTURE.version).map((m) => m.version),
    );
    const upgraded = await captureTriggers(db);
    expect(upgraded.map((t) => t.name)).toEqual([
      'ferry_capture_delete',
      'ferry_capture_insert',
      'ferry_capture_update',
    ]);
    expect(upgraded.map((t) => [t.per_row, t.fn.replace(/_[0-9a-f]{16}$/, '_…')])).toEqual([
      [true, 'outbox_capture_…'],
      [true, 'outbox_capture_…'],
      [true, 'outbox_capture_…'],
    ]);

    await db.query(
      `insert into ferry.domains (name, phase, collections) values ('shop', 'pg_primary', '{orders}')`,
    );
    await db.transaction(async (tx) => {
      await tx.query(`insert into app.orders values (1, 'new'), (2, 'new')`);
      await tx.query(`insert into app.orders_items values (1, 0, 'a'), (1, 1, 'b'), (2, 0, 'c')`);
      await tx.query(`update app.orders_items set sku = sku || '!' where parent_id = 1`);
    });
    // A key moved to another root records both entities.
    await db.query(`update app.orders_items set parent_id = 2 where parent_id = 1 and idx = 1`);
    await db.query(`delete from app.orders_items where parent_id = 2`);
    const { rows } = await db.query<{ doc_key: string; n: number }>(
      `select doc_key, count(*)::int as n from ferry.outbox where collection = 'orders' group by 1 order by 1`,
    );
    // Transaction 1: orders 1, 2, then items of 1, 2 and 1 again (each a new entity after
    // another); the move: 2 and 1; the delete: 2.
    expect(rows).toEqual([
      { doc_key: '1', n: 4 },
      { doc_key: '2', n: 4 },
    ]);

    await db.query(`update ferry.domains set phase = 'pg_read'`);
    await db.query(`update app.orders set status = 'paid'`);
    const { rows: after } = await db.query<{ n: number }>('select count(*)::int as n from ferry.outbox');
    expect(after[0]!.n).toBe(8);
  });
});
