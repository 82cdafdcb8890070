import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanInput } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';
import { appFolder, writeConfig } from './support.js';

/** The shop plan with one more column on users, as a later mapping review would add. */
function withNickname(): PlanInput {
  const plan = shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }]);
  const users = plan.collections[0]!.tables[0]!;
  const columns = [
    ...users.columns,
    { name: 'nickname', path: ['nickname'], pgType: 'text', sourceType: 'string' as const, nullable: true },
  ];
  const tables = [{ ...users, columns }, ...plan.collections[0]!.tables.slice(1)];
  return { ...plan, collections: [{ ...plan.collections[0]!, tables }, ...plan.collections.slice(1)] };
}

describe.skipIf(!postgresUrl())('ferry schema apply and check', () => {
  let db: { url: string; drop: () => Promise<void> };
  let client: pg.Client;
  let dir: string;
  const ferry = (...args: string[]) => runFerry([...args, '--target', db.url], { cwd: dir });
  const migrations = () => path.join(dir, 'migrations');

  beforeAll(async () => {
    db = await createTestDatabase('schema_migrations');
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    dir = await appFolder(shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }]));
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the initial migration files and applies them to two schemas, recording checksums', async () => {
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

  it('writes and applies nothing when run again with the same mapping', async () => {
    const before = await readdir(migrations());
    const result = await ferry('schema', 'apply', '--schema', 'prod,test', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ written: [], applied: { prod: [], test: [] } });
    expect(await readdir(migrations())).toEqual(before);
  });

  it('finds no drift when files, database and mapping agree', async () => {
    const result = await ferry('schema', 'check', '--schema', 'prod,test');
    expect(result.stdout).toContain('no drift');
    expect(result.code).toBe(0);
  });

  it('exits 1 naming the table and column when a column was altered by hand', async () => {
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

  it('catches a dropped index and a dropped foreign key', async () => {
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

  it('detects a migration file edited after it was applied, and refuses to apply on top of it', async () => {
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

  it('reports a changed mapping without a migration, then writes an additive migration and applies it', async () => {
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

  it('refuses a destructive mapping change off a terminal without --yes (--force alone is not enough) and writes no file', async () => {
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
