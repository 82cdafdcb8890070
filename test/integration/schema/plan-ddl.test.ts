import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { SchemaPlanReport } from '../../../src/schema/schema-plan.js';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';
import { appFolder } from './support.js';

const U1 = '00000000-0000-7000-8000-000000000001';
const U2 = '00000000-0000-7000-8000-000000000002';
const O1 = '00000000-0000-7000-8000-0000000000a1';
const C1 = '00000000-0000-7000-8000-0000000000c1';
const C2 = '00000000-0000-7000-8000-0000000000c2';
const C3 = '00000000-0000-7000-8000-0000000000c3';

describe.skipIf(!postgresUrl())('ferry plan DDL on real PostgreSQL', () => {
  let dir: string;
  let report: SchemaPlanReport;

  beforeAll(async () => {
    dir = await appFolder(
      shopPlan([
        { name: '_id_', key: { _id: 1 } },
        { name: 'email_1', key: { email: 1 }, unique: true },
        { name: 'bio_text', key: { _fts: 'text', _ftsx: 1 }, options: { weights: { bio: 3, email: 1 } } },
        { name: 'createdAt_1', key: { createdAt: 1 }, expireAfterSeconds: 86400 },
        { name: 'age_sparse', key: { age: -1 }, sparse: true },
        { name: 'location_2dsphere', key: { location: '2dsphere' } },
      ]),
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('prints the DDL, load order, translated indexes, TTL rules and warnings as JSON', async () => {
    const result = await runFerry(['plan', '--schema', 'shop', '--json'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    report = JSON.parse(result.stdout) as SchemaPlanReport;
    expect(report.loadOrder.indexOf('users_addresses_lines')).toBeGreaterThan(
      report.loadOrder.indexOf('users_addresses'),
    );
    expect(report.deferredConstraints.map((fk) => fk.name)).toEqual([
      'users_favorite_order_fkey',
      'orders_user_id_fkey',
      'categories_parent_id_fkey',
    ]);
    expect(report.ttl).toEqual([
      { table: 'users', column: 'created_at', seconds: 86400, source: 'createdAt_1' },
    ]);
    expect(report.indexes.map((i) => i.name)).toEqual([
      'users_email_1',
      'users_bio_text',
      'users_created_at_1',
      'users_age_sparse',
    ]);
    expect(report.warnings.map((w) => w.item)).toEqual(['location_2dsphere']);
  });

  test('creates the tables, loads rows in load order through a self-reference and a two-way reference, then adds the deferred keys', async ({
    pgClient: client,
  }) => {
    await client.query(report.sql.beforeLoad);
    const rows: Record<string, string[]> = {
      users: [
        `insert into shop.users (id, email, favorite_order) values ('${U1}', 'a@x', '${O1}')`,
        `insert into shop.users (id, email) values ('${U2}', 'b@x')`,
      ],
      users_addresses: [
        `insert into shop.users_addresses (parent_id, idx, city) values ('${U1}', 0, 'Oslo')`,
      ],
      users_addresses_lines: [`insert into shop.users_addresses_lines values ('${U1}', 0, 0, 'Storgata 1')`],
      users_settings: [
        `insert into shop.users_settings (parent_id, key, value) values ('${U1}', 'theme', '"dark"')`,
      ],
      orders: [
        `insert into shop.orders (id, user_id, total, owner_kind, owner_id) values ('${O1}', '${U1}', 12.50, 'user', '${U1}')`,
      ],
      // c2 points at c3, which comes later: only a constraint added after the load allows that.
      categories: [
        `insert into shop.categories (id, name) values ('${C1}', 'root')`,
        `insert into shop.categories (id, name, parent_id) values ('${C2}', 'child', '${C3}')`,
        `insert into shop.categories (id, name, parent_id) values ('${C3}', 'middle', '${C1}')`,
      ],
    };
    for (const table of report.loadOrder) for (const sql of rows[table] ?? []) await client.query(sql);
    await client.query(report.sql.afterLoad);

    const { rows: keys } = await client.query<{ conname: string }>(
      `select conname from pg_constraint where contype = 'f' and connamespace = 'shop'::regnamespace order by conname`,
    );
    expect(keys.map((k) => k.conname)).toEqual([
      'categories_parent_id_fkey',
      'orders_user_id_fkey',
      'users_addresses_lines_parent_fkey',
      'users_addresses_parent_fkey',
      'users_favorite_order_fkey',
      'users_settings_parent_fkey',
    ]);
  });

  test('enforces the deferred keys, the discriminator check and the unique index once created', async ({
    pgClient: client,
  }) => {
    await expect(
      client.query(
        `insert into shop.categories (id, parent_id) values (gen_random_uuid(), gen_random_uuid())`,
      ),
    ).rejects.toThrow(/categories_parent_id_fkey/);
    await expect(
      client.query(
        `insert into shop.orders (id, owner_kind, owner_ref) values (gen_random_uuid(), 'user', 'x')`,
      ),
    ).rejects.toThrow(/orders_owner_kind_check/);
    await expect(
      client.query(`insert into shop.users (id, email) values (gen_random_uuid(), 'a@x')`),
    ).rejects.toThrow(/users_email_1/);
  });

  test('deletes a document’s child rows with it, through nested children', async ({ pgClient: client }) => {
    await client.query(`update shop.orders set user_id = null, owner_kind = null, owner_id = null`);
    await client.query(`delete from shop.users where id = '${U1}'`);
    const { rows } = await client.query<{ n: number }>(
      `select (select count(*) from shop.users_addresses)::int + (select count(*) from shop.users_addresses_lines)::int
            + (select count(*) from shop.users_settings)::int as n`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  test('finds documents through the text search index expression', async ({ pgClient: client }) => {
    await client.query(`update shop.users set bio = 'loves sailing boats' where id = '${U2}'`);
    const { rows } = await client.query<{ id: string }>(
      `select id from shop.users
        where (setweight(to_tsvector('english'::regconfig, coalesce("bio", '')), 'A') ||
               setweight(to_tsvector('english'::regconfig, coalesce("email", '')), 'B')) @@ to_tsquery('english', 'boat')`,
    );
    expect(rows.map((r) => r.id)).toEqual([U2]);
  });

  test('prints a text plan that runs as one SQL script into another schema', async ({ pgClient: client }) => {
    const result = await runFerry(['plan', '--schema', 'whole'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('-- TTL cleanup rules');
    // The command that runs them is named (it exists since the TTL job was built).
    expect(result.stdout).toContain('run them with `ferry ttl run`');
    expect(result.stdout).toContain('[INDEX_UNSUPPORTED_KIND] users');
    await client.query(result.stdout);
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_tables where schemaname = 'whole'`,
    );
    expect(rows[0]!.n).toBe(6);
  });

  test('refuses to plan without a mapping and says to run ferry infer', async () => {
    const empty = await appFolder(undefined);
    try {
      const result = await runFerry(['plan'], { cwd: empty });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('ferry infer');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
