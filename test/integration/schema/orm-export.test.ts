import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { writeMarketplaceArchive } from '../../../src/generate/index.js';
import type { PlanInput } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import {
  appWith,
  catalogLines,
  drizzlePush,
  NO_CHANGES,
  rebuiltCatalog,
  roundTrip,
} from '../../support/orm-tools.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';

/**
 * `ferry schema export` end to end: the real CLI writes the files from the config's mapping,
 * `tsc --strict` compiles the Drizzle module, `drizzle-kit push --strict` compares it with
 * the tables `ferry schema apply` made and must find nothing to change, and `prisma validate`
 * accepts the Prisma schema.
 */

/** Every column type, a nested child, a map child, a self reference, a cycle, a CHECK and every index kind. */
const everything: PlanInput = planOf(
  collection(
    'users',
    [
      table('users', [
        objectIdColumn,
        col('email', ['email'], 'text', 'string', { nullable: false }),
        col('name', ['name'], 'text', 'string'),
        col('balance', ['balance'], 'numeric(38,18)', 'decimal'),
        col('points', ['points'], 'numeric', 'decimal'),
        col('avatar', ['avatar'], 'bytea', 'binData'),
        col('tags', ['tags'], 'text[]', 'string'),
        col('lucky', ['lucky'], 'integer[]', 'int', { nullable: false }),
        col('visits', ['visits'], 'bigint', 'long'),
        col('ratio', ['ratio'], 'double precision', 'double'),
        col('active', ['active'], 'boolean', 'bool'),
        col('created_at', ['createdAt'], 'timestamptz', 'date'),
        col('settings', ['settings'], 'jsonb', 'object'),
        col('referred_by', ['referredBy'], 'uuid', 'objectId', {
          references: { table: 'users', column: 'id' },
        }),
        col('best_order', ['bestOrder'], 'uuid', 'objectId', {
          references: { table: 'orders', column: 'id' },
        }),
      ]),
    ],
    [
      { name: 'email_1', key: { email: 1 }, unique: true },
      { name: 'name_text', key: { name: 'text' } },
      { name: 'referredBy_1', key: { referredBy: 1 }, sparse: true },
      { name: 'createdAt_-1_name_1', key: { createdAt: -1, name: 1 } },
      { name: 'createdAt_1', key: { createdAt: 1 }, expireAfterSeconds: 3600 },
      { name: 'tags_1', key: { tags: 1 } },
    ],
  ),
  collection(
    'orders',
    [
      {
        ...table('orders', [
          objectIdColumn,
          col('user_id', ['userId'], 'uuid', 'objectId', {
            nullable: false,
            references: { table: 'users', column: 'id' },
          }),
          col('total', ['total'], 'numeric(12,2)', 'decimal'),
          col('status', ['status'], 'text', 'string'),
        ]),
        discriminators: [
          {
            path: ['target'],
            kindPath: ['targetType'],
            columns: { kind: 'target_kind', id: 'target_id', ref: 'target_ref' },
            kinds: [
              { name: 'User', idType: 'objectId', table: 'users' },
              { name: "Sku's", idType: 'string' },
            ],
          },
        ],
      },
      child('orders_items', 'orders', ['items'], 'array', [
        col('sku', ['sku'], 'text', 'string'),
        col('qty', ['qty'], 'integer', 'int'),
      ]),
      child(
        'orders_items_parts',
        'orders_items',
        ['parts'],
        'array',
        [col('code', [], 'text', 'string')],
        ['parent_id', 'parent_idx'],
      ),
      child('orders_meta', 'orders', ['meta'], 'map', [col('value', [], 'text', 'string')]),
    ],
    [{ name: 'status_1', key: { status: 1 }, partialFilterExpression: { status: { $eq: 'open' } } }],
  ),
  // Names that collide with the file's imports, with each other and with reserved words.
  collection('index', [
    table('index', [
      objectIdColumn,
      col('user_id', ['user_id'], 'text', 'string'),
      col('userId', ['userId'], 'text', 'string'),
      col('class', ['class'], 'integer', 'int'),
      col('extra', ['extra'], 'text', 'string'),
    ]),
  ]),
);

describe.skipIf(!postgresUrl())('ferry schema export', () => {
  test('a plan with every column type, nested and map children, a cycle, a CHECK and every index kind exports a Drizzle file that drizzle-kit finds identical to the applied schema', async ({
    ownPgUrl: url,
  }) => {
    const cwd = await appWith(everything);
    const { drizzle, prisma } = await roundTrip(cwd, url, 'app');

    expect(drizzle).toContain(`export const appSchema = pgSchema('app');`);
    expect(drizzle).toContain(`balance: numeric('balance', { precision: 38, scale: 18 }),`);
    expect(drizzle).toContain(`avatar: bytea('avatar'),`);
    expect(drizzle).toContain(`lucky: integer('lucky').array().notNull(),`);
    expect(drizzle).toContain(`visits: bigint('visits', { mode: 'bigint' }),`);
    expect(drizzle).toContain(
      `primaryKey({ name: 'orders_items_parts_pkey', columns: [t.parentId, t.parentIdx, t.idx] })`,
    );
    expect(drizzle).toMatch(
      /foreignKey\(\{ name: 'orders_items_parts_parent_fkey', columns: \[t\.parentId, t\.parentIdx\], foreignColumns: \[ordersItems\.parentId, ordersItems\.idx\] \}\)\.onDelete\('cascade'\)/,
    );
    expect(drizzle).toContain(`check('orders_target_kind_check', sql\``);
    expect(drizzle).toMatch(/index\('users_name_text'\)\.using\('gin', sql`to_tsvector/);
    expect(drizzle).toContain(`.where(sql\`"status" = 'open'\`)`);
    expect(drizzle).toContain(`t.createdAt.desc().nullsFirst()`);
    expect(drizzle).toContain(
      ' * MongoDB collection "orders": child table of "orders_items", keyed by (parent_id, parent_idx, idx).',
    );
    expect(drizzle).toMatch(/items: many\(ordersItems, \{ relationName: 'orders_items_parent_fkey' \}\)/);
    expect(drizzle).toMatch(/referredByRef|referred: one\(users/);

    expect(drizzle).toContain(`export const index2 = appSchema.table(`);
    expect(drizzle).toMatch(
      /userId: text\('user_id'\),\n {4}userId2: text\('userId'\),\n {4}class_: integer\('class'\),\n {4}extra: text\('extra'\),\n {4}extra2: jsonb\('_extra'\),/,
    );
    expect(drizzle).toContain(`index('users_tags_1').using('gin', t.tags.asc()),`);
    expect(prisma).toContain('@@index([tags], type: Gin, map: "users_tags_1")');
    expect(prisma).toContain('@@schema("app")');
    expect(prisma).toContain('balance Decimal? @db.Decimal(38, 18)');
    expect(prisma).toContain('/// CHECK orders_target_kind_check (Prisma has no CHECK constraints');
    expect(prisma).toContain(
      '/// index users_name_text (Prisma cannot express it; PostgreSQL keeps it): using gin',
    );
    expect(prisma).toContain('@@id([parentId, parentIdx, idx], map: "orders_items_parts_pkey")');
  });

  test('drizzle-kit reports a difference when the exported file and the database disagree', async ({
    ownPgUrl: url,
  }) => {
    const cwd = await appWith(everything);
    await roundTrip(cwd, url, 'public');
    const file = await readFile(path.join(cwd, 'schema.ts'), 'utf8');
    const withoutRatio = file.replace(/^ {4}ratio: .*\n/m, '');
    expect(withoutRatio).not.toBe(file);
    await writeFile(path.join(cwd, 'edited.ts'), withoutRatio);
    const pushed = await drizzlePush(cwd, './edited.ts', url, 'public');
    expect(pushed.output).toContain('ALTER TABLE "users" DROP COLUMN "ratio";');
    expect(pushed.output).not.toContain(NO_CHANGES);
    // The dry run applied nothing.
    const again = await drizzlePush(cwd, './schema.ts', url, 'public');
    expect(again.output).toContain(NO_CHANGES);

    // A changed CHECK is invisible to push, and caught by rebuilding from the file.
    const otherCheck = file.replace(`'Sku''s'`, `'Skus'`);
    expect(otherCheck).not.toBe(file);
    await writeFile(path.join(cwd, 'check.ts'), otherCheck);
    const ferry = await catalogLines(url, 'public');
    const rebuilt = await rebuiltCatalog(cwd, './check.ts', 'public');
    const changed = rebuilt.filter(
      (line) => !ferry.includes(line.replace(/$/, '')) && !ferry.includes(`${line} NULLS NOT DISTINCT`),
    );
    expect(changed).toEqual([
      expect.stringMatching(/^constraint orders\.orders_target_kind_check CHECK .*'Skus'/),
    ]);
  });

  test('the generated marketplace exports a Drizzle file with no drift and a Prisma schema that validates, byte for byte the same each time', async ({
    ownPgUrl: url,
  }) => {
    const cwd = await appWith(undefined);
    await writeMarketplaceArchive(path.join(cwd, 'marketplace.archive.gz'), {
      seed: 3,
      scale: 300,
      gzip: true,
    });
    const inferred = await runFerry(['infer', 'marketplace.archive.gz'], { cwd });
    expect(inferred.code, inferred.stderr).toBe(0);
    const first = await roundTrip(cwd, url, 'public');

    const again = await runFerry(['schema', 'export', '--drizzle', 'again.ts', '--prisma', 'again.prisma'], {
      cwd,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(path.join(cwd, 'again.ts'), 'utf8')).toBe(first.drizzle);
    expect(await readFile(path.join(cwd, 'again.prisma'), 'utf8')).toBe(first.prisma);

    expect(first.prisma).toMatchSnapshot();
  });

  test('an export without a file to write, or for two schemas at once, is a usage error', async () => {
    const cwd = await appWith(everything);
    const code = (result: { stdout: string }) =>
      (JSON.parse(result.stdout) as { error: { code: string } }).error.code;
    const none = await runFerry(['schema', 'export', '--json'], { cwd });
    expect(none.code).toBe(2);
    expect(code(none)).toBe('SCHEMA_EXPORT_NO_FORMAT');
    const two = await runFerry(['schema', 'export', '--drizzle', 'x.ts', '--schema', 'a,b', '--json'], {
      cwd,
    });
    expect(two.code).toBe(2);
    expect(code(two)).toBe('SCHEMA_EXPORT_ONE_SCHEMA');
    const nowhere = await runFerry(['schema', 'export', '--prisma', 'no/such/folder/x.prisma'], { cwd });
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('no/such/folder/x.prisma');
  });
});
