import pg from 'pg';
import { describe, expect } from 'vitest';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';

/** The call that installs `table`'s insert capture trigger, keyed by its column `id`. */
const install = (table: string) =>
  `select ferry.outbox_install_capture('race.${table}', 'ferry_capture_insert', 'insert', '${table}', 'id')`;

describe.skipIf(!postgresUrl())('capture triggers installed by two sessions at the same moment', () => {
  test('both install when neither session has committed the capture function they share', async ({
    db,
    pgUrl,
  }) => {
    await ensureFerryState(db);
    await db.query('create schema race');
    await db.query('create table race.customers (id integer primary key)');
    await db.query('create table race.suppliers (id integer primary key)');
    const [first, second] = [new pg.Client(pgUrl), new pg.Client(pgUrl)];
    await Promise.all([first.connect(), second.connect()]);
    try {
      // The first session creates the function of key column `id` and has not committed,
      // as when two collections of a parallel backfill finish at once.
      await first.query('begin');
      await first.query(install('customers'));
      const secondInstall = second.query(install('suppliers'));
      await waitUntilBlockedBy(db, first);
      await first.query('commit');
      await expect(secondInstall).resolves.toBeDefined();
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    const { rows } = await db.query<{ table: string }>(
      `select tgrelid::regclass::text as table from pg_trigger
        where tgname = 'ferry_capture_insert' and tgrelid::regclass::text like 'race.%' order by 1`,
    );
    expect(rows.map((r) => r.table)).toEqual(['race.customers', 'race.suppliers']);
  });
});

/** Waits until some session waits on a lock `holder` holds (asked through `db`, outside both). */
async function waitUntilBlockedBy(db: TargetDatabase, holder: pg.Client): Promise<void> {
  const { rows } = await holder.query<{ pid: number }>('select pg_backend_pid() as pid');
  for (let tries = 0; tries < 400; tries++) {
    const { rows: waiting } = await db.query<{ n: number }>(
      'select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))',
      [rows[0]!.pid],
    );
    if (waiting[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the second session never waited on the first');
}
