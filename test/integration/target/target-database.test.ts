import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowValues } from '../../../src/mapping/row-values.js';
import { openTarget } from '../../../src/target/open-target.js';
import { openPgliteTarget } from '../../../src/target/pglite-target.js';
import { withRetry } from '../../../src/target/retry.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { TargetError } from '../../../src/target/target-error.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { ALL_KINDS_COLUMNS, ALL_KINDS_DDL, comparable, sampleBatches, sampleRow } from './sample-rows.js';

/**
 * One suite, run against a real PostgreSQL and against PGlite in a temporary directory: the
 * rest of Ferry only sees `TargetDatabase`, so both must behave the same.
 */

const MANY = 100_000;
const ALL_KINDS = { schema: 'public', name: 'all kinds' };
const CHECKED = { schema: 'public', name: 'checked' };

interface Harness {
  open(): Promise<TargetDatabase>;
  password?: string;
  cleanup(): Promise<void>;
}

const pgAvailable = postgresUrl() !== undefined;
const readBack = new Map<string, Record<string, unknown>[]>();

const harnesses: [string, () => Promise<Harness>][] = [
  [
    'postgres',
    async () => {
      const db = await createTestDatabase('target');
      const password = decodeURIComponent(new URL(db.url).password);
      return { open: () => openTarget(db.url), cleanup: db.drop, password };
    },
  ],
  [
    'pglite',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ferry-target-'));
      return {
        // Small slices so every COPY here spans several `/dev/blob` statements.
        open: () => openPgliteTarget({ dir: path.join(dir, 'pglite'), blobChars: 1 << 20 }),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
];

describe.each(harnesses)('the %s target', (kind, makeHarness) => {
  let harness: Harness;
  let db: TargetDatabase;

  beforeAll(async () => {
    if (kind === 'postgres' && !pgAvailable) return;
    harness = await makeHarness();
    db = await harness.open();
    await db.query(ALL_KINDS_DDL);
    await db.query(
      'create table checked (id integer primary key, qty integer check (qty >= 0), secret text)',
    );
  });

  afterAll(async () => {
    await db?.close();
    await harness?.cleanup();
  });

  const test = kind === 'postgres' && !pgAvailable ? it.skip : it;

  test('says what it is and where, without a password', () => {
    expect(db.kind).toBe(kind);
    if (harness.password) expect(db.location).not.toContain(`:${harness.password}@`);
    expect(db.location).not.toContain(kind === 'postgres' ? 'undefined' : '://');
  });

  test('runs a query with parameters', async () => {
    const { rows, rowCount } = await db.query<{ n: number; s: string }>(
      'select $1::int + 1 as n, $2::text as s',
      [41, 'x'],
    );
    expect(rows).toEqual([{ n: 42, s: 'x' }]);
    expect(rowCount).toBe(1);
  });

  test('commits a transaction, and rolls one back when its body throws', async () => {
    await db.transaction((tx) => tx.query('insert into checked values (1, 1, null)'));
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into checked values (2, 2, null)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const { rows } = await db.query<{ id: number }>('select id from checked order by id');
    expect(rows).toEqual([{ id: 1 }]);
    await db.query('delete from checked');
  });

  test(`copies ${MANY} rows of every row-value kind and reads them back identical`, async () => {
    const started = performance.now();
    const copied = await db.transaction((tx) =>
      tx.copyFrom(ALL_KINDS, ALL_KINDS_COLUMNS, sampleBatches(MANY)),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `COPY ${kind}: ${MANY} rows in ${seconds.toFixed(2)} s = ${Math.round(MANY / seconds)} rows/s`,
    );
    expect(copied).toBe(MANY);

    const { rows } = await db.query<Record<string, unknown>>('select * from "all kinds" order by id');
    expect(rows).toHaveLength(MANY);
    for (let i = 0; i < MANY; i++) {
      const expected = comparable(sampleRow(i + 1));
      const actual = comparable(rows[i]!);
      // One toEqual per mismatch only: a 100k-row diff would drown the message.
      if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
    }
    readBack.set(kind, rows.slice(0, 2000));
  });

  test('reads back a row written through query parameters as the same values COPY wrote', async () => {
    const row = sampleRow(MANY + 1);
    const placeholders = ALL_KINDS_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
    await db.query(
      `insert into "all kinds" (${ALL_KINDS_COLUMNS.map((c) => `"${c}"`).join(', ')}) values (${placeholders})`,
      ALL_KINDS_COLUMNS.map((c) => row[c]),
    );
    const { rows } = await db.query<Record<string, unknown>>('select * from "all kinds" where id = $1', [
      MANY + 1,
    ]);
    expect(comparable(rows[0]!)).toEqual(comparable(row));
  });

  test('fails a COPY with a CHECK violation naming the table and line, without the values, and rolls back', async () => {
    const rows: RowValues[] = Array.from({ length: 10 }, (_, i) => ({
      id: i + 1,
      qty: i === 6 ? -1 : i,
      secret: `hunter2-${i}`,
    }));
    const error = await db
      .transaction(async (tx) => {
        await tx.query('insert into checked values (100, 1, null)');
        return tx.copyFrom(CHECKED, ['id', 'qty', 'secret'], [rows.slice(0, 4), rows.slice(4)]);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    const e = error as TargetError;
    expect(e.code).toBe('TARGET_COPY_FAILED');
    expect(e.sqlState).toBe('23514');
    expect(e.line).toBe(7);
    expect(e.message).toContain('"public"."checked"');
    expect(e.message).toContain('line 7');
    expect(e.exitCode).toBe(2);
    expect(`${e.message} ${String(e.cause)} ${JSON.stringify(e)}`).not.toContain('hunter2');
    expect((await db.query('select * from checked')).rows).toEqual([]);
  });

  test('fails a COPY with a duplicate key at the duplicate line, and shows the values only under FERRY_DEBUG', async () => {
    const rows: RowValues[] = [1, 2, 3, 2].map((id) => ({ id, qty: 0, secret: `hunter2-${id}` }));
    const copy = () => db.transaction((tx) => tx.copyFrom(CHECKED, ['id', 'qty', 'secret'], [rows]));
    const quiet = (await copy().catch((e: unknown) => e)) as TargetError;
    expect(quiet.sqlState).toBe('23505');
    expect(quiet.line).toBe(4);
    expect(quiet.message).not.toContain('(id)=(2)');

    process.env.FERRY_DEBUG = '1';
    try {
      const loud = (await copy().catch((e: unknown) => e)) as TargetError;
      expect(loud.message).toContain('(id)=(2)');
    } finally {
      delete process.env.FERRY_DEBUG;
    }
    expect((await db.query('select * from checked')).rows).toEqual([]);
  });

  test('names the row that has no value for a column instead of writing NULL', async () => {
    const error = (await db
      .transaction((tx) => tx.copyFrom(CHECKED, ['id', 'qty'], [[{ id: 1, qty: 1 }, { id: 2 }]]))
      .catch((e: unknown) => e)) as TargetError;
    expect(error.code).toBe('TARGET_COPY_BAD_ROW');
    expect(error.line).toBe(2);
    // The connection is usable afterwards.
    expect((await db.query('select count(*)::int as n from checked')).rows).toEqual([{ n: 0 }]);
  });

  test('stops a COPY when its signal aborts, rolls back, and leaves the database usable', async () => {
    const controller = new AbortController();
    async function* batches() {
      yield [{ id: 1, qty: 0, secret: null }];
      controller.abort(new Error('stop now'));
      yield [{ id: 2, qty: 0, secret: null }];
    }
    await expect(
      db.transaction((tx) =>
        tx.copyFrom(CHECKED, ['id', 'qty', 'secret'], batches(), { signal: controller.signal }),
      ),
    ).rejects.toThrow('stop now');
    expect((await db.query('select count(*)::int as n from checked')).rows).toEqual([{ n: 0 }]);
  });

  test('retries a serialization failure and gives up on a unique violation at once', async () => {
    let attempts = 0;
    const result = await withRetry(
      async () => {
        attempts++;
        if (attempts < 3)
          await db.query(
            `do $$ begin raise exception 'lost a race' using errcode = 'serialization_failure'; end $$`,
          );
        return 'done';
      },
      { baseMs: 1 },
    );
    expect([result, attempts]).toEqual(['done', 3]);

    await db.query('insert into checked values (1, 0, null)');
    let uniqueAttempts = 0;
    const error = await withRetry(
      () => {
        uniqueAttempts++;
        return db.query('insert into checked values (1, 0, null)');
      },
      { baseMs: 1 },
    ).catch((e: unknown) => e);
    expect((error as TargetError).sqlState).toBe('23505');
    expect(uniqueAttempts).toBe(1);
    await db.query('delete from checked');
  });

  test('gives a dedicated session that holds session state and runs transactions', async () => {
    const session = await db.acquire();
    try {
      await session.query('select pg_advisory_lock(4242)');
      await session.transaction((tx) => tx.query('insert into checked values (5, 5, null)'));
      const { rows } = await session.query<{ held: boolean }>(
        "select count(*) = 1 as held from pg_locks where locktype = 'advisory' and objid = 4242",
      );
      expect(rows).toEqual([{ held: true }]);
      await session.query('select pg_advisory_unlock(4242)');
    } finally {
      await session.release();
    }
    await db.query('delete from checked');
  });

  test('runs concurrent transactions to completion (in turn on PGlite)', async () => {
    await Promise.all(
      [1, 2, 3, 4].map((id) =>
        db.transaction(async (tx) => {
          await tx.query('insert into checked values ($1, 0, null)', [id]);
          await new Promise((resolve) => setTimeout(resolve, 5));
          await tx.query('update checked set qty = qty + 1 where id = $1', [id]);
        }),
      ),
    );
    const { rows } = await db.query('select id, qty from checked order by id');
    expect(rows).toEqual([1, 2, 3, 4].map((id) => ({ id, qty: 1 })));
    await db.query('delete from checked');
  });
});

describe.runIf(pgAvailable)('both targets', () => {
  it('return the very same JS values for the same rows, so toDoc cannot tell them apart', () => {
    const pgRows = readBack.get('postgres');
    const pgliteRows = readBack.get('pglite');
    expect(pgRows).toBeDefined();
    expect(pgliteRows).toEqual(pgRows);
  });
});
