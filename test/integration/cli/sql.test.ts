import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';

/** `ferry sql` as a user runs it, to look at the migrated data in either target. */
describe.skipIf(!postgresUrl())('ferry sql on PostgreSQL', () => {
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('cli_sql'));
    await sql(
      url,
      `create table users (id int primary key, name text, balance numeric, tags text[], meta jsonb);
       insert into users values (1, 'Ada', 12345678901234567890, '{a,b}', '{"price": 3.3}'), (2, null, 5, '{}', null)`,
    );
  });
  afterAll(async () => {
    await drop?.();
  });

  it('prints the rows of a query as a table, NULL as empty, and --json keeps exact values', async () => {
    const table = await runFerry(['sql', 'select id, name, balance from users order by id', '--target', url]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n').map((l) => l.trimEnd())).toEqual([
      'id  name  balance',
      '--  ----  --------------------',
      '1   Ada   12345678901234567890',
      '2         5',
      '(2 rows)',
      '',
    ]);
    const json = await runFerry(['sql', 'select * from users where id = 1', '--target', url, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      columns: ['id', 'name', 'balance', 'tags', 'meta'],
      rows: [
        { id: 1, name: 'Ada', balance: '12345678901234567890', tags: ['a', 'b'], meta: '{"price": 3.3}' },
      ],
      rowCount: 1,
    });
  });

  it('reads statements ending with ";" from stdin, reports a failing one and carries on, exit 1', async () => {
    const result = await runFerry(['sql', '--target', url], {
      input: 'select count(*) as n\n  from users;\nselect no_such_column from users;\nselect 2 as two;\n',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/n\n-\n2\n\(1 row\)/);
    expect(result.stdout).toMatch(/two\n---\n2\s*\n\(1 row\)/);
    expect(result.stderr).toMatch(/column "no_such_column" does not exist/);
  });

  it('fails a bad one-shot query as bad input (exit 2) with the server message, never a stack trace', async () => {
    const result = await runFerry(['sql', 'select from nowhere', '--target', url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/relation "nowhere" does not exist/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('ferry sql on the embedded target', () => {
  it('queries ./.ferry when there is no --target or DATABASE_URL', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-sql-'));
    const env = { DATABASE_URL: '' };
    const made = await runFerry(['sql', 'create table notes as select 1 as id, $$hi$$::text as body'], {
      cwd,
      env,
    });
    expect(made.code, made.stderr).toBe(0);
    const read = await runFerry(['sql', '--json'], { cwd, env, input: 'select * from notes;\n' });
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({
      columns: ['id', 'body'],
      rows: [{ id: 1, body: 'hi' }],
      rowCount: 1,
    });
  });
});
