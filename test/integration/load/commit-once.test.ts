import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareChunk } from '../../../src/load/chunk.js';
import { prepareSchema } from '../../../src/load/schema-setup.js';
import { tableTargets } from '../../../src/load/table-writer.js';
import { writeChunk } from '../../../src/load/write-chunk.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { orders, plan, sql } from './support.js';

/**
 * A COMMIT can go through on the server while its answer is lost with the connection (the
 * server restarts at that moment); the retry then runs the chunk's transaction a second
 * time. Told the checkpoint's totals before the chunk, writeChunk sees the chunk already
 * committed and writes nothing: each document stays loaded once, none turns into a
 * duplicate-key reject.
 */
describe.skipIf(!postgresUrl())('a chunk committed twice', () => {
  let url: string;
  let drop: () => Promise<void>;
  let db: TargetDatabase;

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('commit_once'));
    db = await openTarget(url);
    await ensureFerryState(db);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  /** A chunk of `n` orders bound for a fresh schema, and the target that says nothing is loaded yet. */
  async function firstChunk(schema: string, n: number) {
    await prepareSchema(db, plan, schema, ['orders']);
    const chunk = prepareChunk(plan, {
      collection: 'orders',
      docs: orders(n),
      rejects: [],
      position: { kind: 'offset', offset: 100 * n, index: n },
      bytes: 1,
    });
    const target = {
      schema,
      collection: 'orders',
      tables: tableTargets(plan.collections[1]!, schema),
      mode: 'copy' as const,
      runId: undefined,
      before: { read: 0, migrated: 0, rejected: 0 },
    };
    return { chunk, target };
  }

  it('is written once when the retry finds the checkpoint already at its end', async () => {
    const { chunk, target } = await firstChunk('once', 50);
    const first = await db.transaction((tx) => writeChunk(tx, target, chunk));
    // The retry of the same transaction, as withRetry runs it after a lost COMMIT answer.
    const retry = await db.transaction((tx) => writeChunk(tx, target, chunk));

    expect([first.migrated, first.rejected]).toEqual([50, 0]);
    expect([retry.migrated, retry.rejected, retry.writes]).toEqual([50, 0, 0]);
    expect(
      await sql(url, 'select count(*)::int as n, count(distinct id)::int as ids from once.orders'),
    ).toEqual([{ n: 50, ids: 50 }]);
    expect(
      await sql(
        url,
        `select read::int, migrated::int, rejected::int from ferry.checkpoints where schema = 'once'`,
      ),
    ).toEqual([{ read: 50, migrated: 50, rejected: 0 }]);
    expect(await sql(url, `select count(*)::int as n from ferry.rejects where schema = 'once'`)).toEqual([
      { n: 0 },
    ]);
  });

  it('is written again when the checkpoint is not at its end (the first try did not commit)', async () => {
    const { chunk, target } = await firstChunk('again', 20);
    const rolledBack = await db
      .transaction(async (tx) => {
        await writeChunk(tx, target, chunk);
        throw new Error('connection lost before COMMIT');
      })
      .catch((e: unknown) => e);
    expect(rolledBack).toBeInstanceOf(Error);
    const retry = await db.transaction((tx) => writeChunk(tx, target, chunk));
    expect([retry.migrated, retry.writes]).toEqual([20, 1]);
    expect(await sql(url, 'select count(*)::int as n from again.orders')).toEqual([{ n: 20 }]);
  });
});
