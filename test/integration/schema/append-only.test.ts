import { beforeAll, describe, expect } from 'vitest';
import type { PlanInput } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';
import { oid, sql, writeSource } from '../load/support.js';
import { writeConfig } from './support.js';

/** A ledger with its postings as a child table; `appendOnly` is the only thing that varies. */
function ledgerPlan(appendOnly: boolean): PlanInput {
  return planOf({
    ...collection('ledger', [
      table('ledger', [
        objectIdColumn,
        col('account', ['account'], 'text', 'string'),
        col('amount', ['amount'], 'bigint', 'long'),
      ]),
      child('ledger_postings', 'ledger', ['postings'], 'array', [col('note', ['note'], 'text', 'string')]),
    ]),
    ...(appendOnly && { appendOnly: true }),
  });
}

function entry(i: number) {
  return { _id: oid(i, 7), account: `acct-${i % 3}`, amount: BigInt(i * 100), postings: [{ note: `n${i}` }] };
}

/** PostgreSQL's own answer to a statement: the SQLSTATE and message it refused it with, if it did. */
async function refusal(url: string, text: string): Promise<{ code?: string; message: string } | undefined> {
  try {
    await sql(url, text);
    return undefined;
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { ...(e.code !== undefined && { code: e.code }), message: e.message };
  }
}

describe.skipIf(!postgresUrl())('append-only tables', () => {
  let cwd: string;

  beforeAll(async () => {
    const docs = Array.from({ length: 20 }, (_, i) => entry(i));
    cwd = await writeSource({ ledger: docs });
    await writeConfig(cwd, ledgerPlan(true));
  });

  test('schema apply makes PostgreSQL itself refuse UPDATE and DELETE on the root and child tables, while inserts and the backfill still work', async ({
    pgUrl: url,
  }) => {
    const apply = await runFerry(['schema', 'apply', '--target', url, '--yes'], { cwd });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout + apply.stderr).toContain('2 append-only table(s)');
    const backfill = await runFerry(['backfill', '--target', url, '--source', cwd, '--json'], { cwd });
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(await sql(url, 'select count(*)::int as n from public.ledger')).toEqual([{ n: 20 }]);

    // A plain client, no Ferry code between the statement and PostgreSQL.
    const update = await refusal(url, `update public.ledger set amount = amount + 1`);
    expect(update?.code).toBe('FERAO');
    expect(update?.message).toBe('table public.ledger is append-only: UPDATE is refused');
    const remove = await refusal(url, `delete from public.ledger_postings`);
    expect(remove?.code).toBe('FERAO');
    expect(remove?.message).toBe('table public.ledger_postings is append-only: DELETE is refused');
    const rootDelete = await refusal(url, `delete from public.ledger where account = 'acct-1'`);
    expect(rootDelete?.code).toBe('FERAO');
    expect(await sql(url, 'select count(*)::int as n from public.ledger_postings')).toEqual([{ n: 20 }]);

    const insert = await refusal(
      url,
      `insert into public.ledger (id, account, amount) values (gen_random_uuid(), 'acct-new', 5)`,
    );
    expect(insert).toBeUndefined();
    expect(await sql(url, 'select count(*)::int as n from public.ledger')).toEqual([{ n: 21 }]);

    const check = await runFerry(['schema', 'check', '--target', url], { cwd });
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  test('schema check notices the flag changing, and apply lifts the refusal', async ({ pgUrl: url }) => {
    await writeConfig(cwd, { ...ledgerPlan(false), collections: ledgerPlan(false).collections, version: 1 });
    const check = await runFerry(['schema', 'check', '--target', url], { cwd });
    expect(check.code).toBe(1);
    expect(check.stdout + check.stderr).toContain('drop trigger if exists "ferry_append_only"');
    expect(check.stdout + check.stderr).toContain('the mapping does not say appendOnly');

    const apply = await runFerry(['schema', 'apply', '--target', url, '--yes'], { cwd });
    expect(apply.code, apply.stderr).toBe(0);
    expect(await refusal(url, `update public.ledger set amount = amount + 1`)).toBeUndefined();
    expect((await runFerry(['schema', 'check', '--target', url], { cwd })).code).toBe(0);

    await writeConfig(cwd, ledgerPlan(true));
    expect((await runFerry(['schema', 'apply', '--target', url, '--yes'], { cwd })).code).toBe(0);
    expect(await refusal(url, `delete from public.ledger`)).toEqual({
      code: 'FERAO',
      message: 'table public.ledger is append-only: DELETE is refused',
    });
  });
});
