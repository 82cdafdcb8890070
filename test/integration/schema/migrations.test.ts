import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { PlanInput } from '../../../src/mapping/model.js';
import { type CliResult, runFerry } from '../../support/cli.js';
import { test as base } from '../../support/fixtures.js';
import { col, planOf } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';
import { appFolder, writeConfig } from './support.js';

/** The shop plan with one more column on users, as a later mapping review would add. */
function withNickname(): PlanInput {
  const plan = shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }]);
  const [users, ...children] = plan.collections[0]!.tables;
  const nickname = col('nickname', ['nickname'], 'text', 'string');
  const tables = [{ ...users!, columns: [...users!.columns, nickname] }, ...children];
  return planOf({ ...plan.collections[0]!, tables }, ...plan.collections.slice(1));
}

let dir: string;
const test = base.extend<{ ferry: (...args: string[]) => Promise<CliResult> }>({
  /** `ferry <args> --target <this file's database>`, run in the app folder. */
  ferry: [
    async ({ pgUrl }, use) => {
      await use((...args) => runFerry([...args, '--target', pgUrl], { cwd: dir }));
    },
    { scope: 'file' },
  ],
});

describe.skipIf(!postgresUrl())('ferry schema apply and check', () => {
  const migrations = () => path.join(dir, 'migrations');

  beforeAll(async () => {
    dir = await appFolder(shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }]));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('writes the initial migration files and applies them to two schemas, recording checksums', async ({
    ferry,
    pgClient: client,
  }) => {
    const result = await ferry('schema', 'apply', '--schema', 'prod,test', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      written: ['0001_create_tables.sql', '0002_add_constraints_and_indexes.sql'],
      applied: { prod: [1, 2], test: [1, 2] },
    });
    const { rows } = await client.query<{ schema: string; version: number; checksum: string }>(
      'select schema, version, checksum from ferry.migrations order by schema, version',
    );
    const sums = await Promise.all(
      ['0001_create_tables.sql', '0002_add_constraints_and_indexes.sql'].map(async (f) =>
        createHash('sha256')
          .update(await readFile(path.join(migrations(), f)))
          .digest('hex'),
      ),
    );
    expect(rows).toEqual([
      { schema: 'prod', version: 1, checksum: sums[0] },
      { schema: 'prod', version: 2, checksum: sums[1] },
      { schema: 'test', version: 1, checksum: sums[0] },
      { schema: 'test', version: 2, checksum: sums[1] },
    ]);
    const tables = await client.query<{ schemaname: string; n: number }>(
      `select schemaname, count(*)::int as n from pg_tables where schemaname in ('prod', 'test') group by 1 order by 1`,
    );
    expect(tables.rows).toEqual([
      { schemaname: 'prod', n: 6 },
      { schemaname: 'test', n: 6 },
    ]);
  });

  test('writes and applies nothing when run again with the same mapping', async ({ ferry }) => {
    const before = await readdir(migrations());
    const result = await ferry('schema', 'apply', '--schema', 'prod,test', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ written: [], applied: { prod: [], test: [] } });
    expect(await readdir(migrations())).toEqual(before);
  });

  test('finds no drift when files, database and mapping agree', async ({ ferry }) => {
    const result = await ferry('schema', 'check', '--schema', 'prod,test');
    expect(result.stdout).toContain('no drift');
    expect(result.code).toBe(0);
  });

  test('exits 1 naming the table and column when a column was altered by hand', async ({
    ferry,
    pgClient: client,
  }) => {
    await client.query('alter table prod.users alter column age type text');
    const result = await ferry('schema', 'check', '--schema', 'prod,test', '--json');
    expect(result.code).toBe(1);
    const { drift } = JSON.parse(result.stdout) as {
      drift: { kind: string; schema: string; table: string; column: string }[];
    };
    expect(drift).toEqual([
      expect.objectContaining({ kind: 'column_type', schema: 'prod', table: 'users', column: 'age' }),
    ]);
    const text = await ferry('schema', 'check', '--schema', 'prod');
    expect(text.stdout).toContain('prod.users.age has type text; the mapping says integer');
    await client.query('alter table prod.users alter column age type integer using age::integer');
  });

  test('catches a dropped index and a dropped foreign key', async ({ ferry, pgClient: client }) => {
    await client.query('drop index test.users_email_1');
    await client.query('alter table test.orders drop constraint orders_user_id_fkey');
    const result = await ferry('schema', 'check', '--schema', 'test', '--json');
    expect(result.code).toBe(1);
    const { drift } = JSON.parse(result.stdout) as { drift: { kind: string; message: string }[] };
    expect(drift.map((d) => d.kind).sort()).toEqual(['constraint_missing', 'index_missing']);
    await client.query('create unique index users_email_1 on test.users (email)');
    await client.query(
      'alter table test.orders add constraint orders_user_id_fkey foreign key (user_id) references test.users (id)',
    );
    expect((await ferry('schema', 'check', '--schema', 'prod,test')).code).toBe(0);
  });

  test('detects a migration file edited after it was applied, and refuses to apply on top of it', async ({
    ferry,
  }) => {
    const file = path.join(migrations(), '0001_create_tables.sql');
    const original = await readFile(file, 'utf8');
    await writeFile(file, `${original}\n-- a harmless looking edit\n`);
    try {
      const check = await ferry('schema', 'check', '--schema', 'prod', '--json');
      expect(check.code).toBe(1);
      expect(JSON.parse(check.stdout).drift).toEqual([
        expect.objectContaining({
          kind: 'file_edited',
          message: expect.stringContaining('0001_create_tables.sql'),
        }),
      ]);
      const apply = await ferry('schema', 'apply', '--schema', 'prod');
      expect(apply.code).toBe(1);
      expect(apply.stderr).toContain('0001_create_tables.sql was edited after it was applied');
    } finally {
      await writeFile(file, original);
    }
  });

  test('reports a changed mapping without a migration, then writes an additive migration and applies it', async ({
    ferry,
  }) => {
    await writeConfig(dir, withNickname());
    const check = await ferry('schema', 'check', '--schema', 'prod', '--json');
    expect(check.code).toBe(1);
    const kinds = (JSON.parse(check.stdout).drift as { kind: string; column?: string }[]).map(
      (d) => `${d.kind}:${d.column ?? ''}`,
    );
    expect(kinds).toEqual(['plan_not_migrated:', 'column_missing:nickname']);

    const apply = await ferry('schema', 'apply', '--schema', 'prod,test', '--json');
    expect(apply.code).toBe(0);
    expect(JSON.parse(apply.stdout)).toEqual({
      written: ['0003_update_schema.sql'],
      applied: { prod: [3], test: [3] },
    });
    const sql = await readFile(path.join(migrations(), '0003_update_schema.sql'), 'utf8');
    expect(sql).toContain('alter table :"schema"."users" add column if not exists "nickname" text;');
    expect((await ferry('schema', 'check', '--schema', 'prod,test')).code).toBe(0);
  });

  test('refuses a destructive mapping change off a terminal without --yes (--force alone is not enough) and writes no file', async ({
    ferry,
  }) => {
    await writeConfig(dir, shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }]));
    const before = await readdir(migrations());
    const result = await ferry('schema', 'apply', '--schema', 'prod');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('drop column users.nickname');
    expect(await readdir(migrations())).toEqual(before);
    const forced = await ferry('schema', 'apply', '--schema', 'prod', '--force');
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain('--yes');
  });
});
