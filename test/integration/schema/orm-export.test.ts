import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect } from 'vitest';
import { writeMarketplaceArchive } from '../../../src/generate/index.js';
import type { PlanInput } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { test } from '../../support/fixtures.js';
import {
  catalogLines,
  drizzleGenerate,
  drizzlePush,
  generatedStatements,
  linkNodeModules,
  prismaValidate,
  typecheck,
} from '../../support/orm-tools.js';
import { child, col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

/**
 * `ferry schema export` end to end: the real CLI writes the files from the config's mapping,
 * `tsc --strict` compiles the Drizzle module, `drizzle-kit push --strict` compares it with
 * the tables `ferry schema apply` made and must find nothing to change, and `prisma validate`
 * accepts the Prisma schema.
 */

const NO_CHANGES = 'No changes detected';

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

async function appWith(mapping: PlanInput | undefined): Promise<string> {
  const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-orm-'));
  if (mapping !== undefined)
    await writeFile(path.join(cwd, 'ferry.config.ts'), `export default ${JSON.stringify({ mapping })};\n`);
  await linkNodeModules(cwd);
  return cwd;
}

/** Apply the mapping with Ferry's own migrations, export both files, and check them with the ORM tools. */
async function roundTrip(
  cwd: string,
  url: string,
  schema: string,
): Promise<{ drizzle: string; prisma: string }> {
  const schemaArgs = schema === 'public' ? [] : ['--schema', schema];
  const applied = await runFerry(['schema', 'apply', '--target', url, ...schemaArgs], { cwd });
  expect(applied.code, applied.stderr).toBe(0);
  const exported = await runFerry(
    ['schema', 'export', '--drizzle', 'schema.ts', '--prisma', 'schema.prisma', ...schemaArgs, '--json'],
    { cwd },
  );
  expect(exported.code, exported.stderr).toBe(0);
  expect(JSON.parse(exported.stdout)).toMatchObject({
    schema,
    written: [
      { format: 'drizzle', file: 'schema.ts' },
      { format: 'prisma', file: 'schema.prisma' },
    ],
  });

  const compiled = await typecheck(cwd, 'schema.ts');
  expect(compiled.output).toBe('');
  expect(compiled.code).toBe(0);

  const pushed = await drizzlePush(cwd, './schema.ts', url, schema);
  expect(pushed.output).not.toContain('You are about to execute');
  expect(pushed.output).toContain(NO_CHANGES);

  const drizzle = await readFile(path.join(cwd, 'schema.ts'), 'utf8');
  await expectSameCatalogWhenRebuilt(cwd, url, schema, drizzle);

  const validated = await prismaValidate(cwd, 'schema.prisma');
  expect(validated.output).toContain('is valid');
  expect(validated.code).toBe(0);

  return { drizzle, prisma: await readFile(path.join(cwd, 'schema.prisma'), 'utf8') };
}

/**
 * drizzle-kit push compares tables, columns, keys and the columns of indexes, but not the
 * text of CHECKs, index predicates or index expressions (and in a schema other than public,
 * not indexes and CHECKs at all). So the file is also built on its own: `drizzle-kit generate`
 * writes its SQL, which runs in a second, empty database, and both databases must then read
 * the same in PostgreSQL's own spelling of every column, constraint and index.
 */
async function expectSameCatalogWhenRebuilt(cwd: string, url: string, schema: string, drizzle: string) {
  const ferry = await catalogLines(url, schema);
  expect(ferry.length).toBeGreaterThan(0);
  // Drizzle cannot say NULLS NOT DISTINCT on an index; the file says it in a comment instead.
  for (const line of ferry.filter((l) => l.endsWith(' NULLS NOT DISTINCT'))) {
    const name = /^index CREATE UNIQUE INDEX (\S+) /.exec(line)?.[1];
    expect(drizzle).toContain(`Unique index "${name}" is NULLS NOT DISTINCT`);
  }
  const rebuilt = await rebuiltCatalog(cwd, './schema.ts', schema);
  expect(rebuilt).toEqual(ferry.map((l) => l.replace(/ NULLS NOT DISTINCT$/, '')));
}

/** The catalog of a fresh database built only from the SQL `drizzle-kit generate` writes for `file`. */
async function rebuiltCatalog(cwd: string, file: string, schema: string): Promise<string[]> {
  const out = `drizzle-out-${path.basename(file, '.ts')}`;
  const generated = await drizzleGenerate(cwd, file, out);
  expect(generated.code, generated.output).toBe(0);
  const rebuilt = await createTestDatabase('orm_rebuilt');
  try {
    const client = new pg.Client({ connectionString: rebuilt.url });
    await client.connect();
    try {
      for (const statement of await generatedStatements(path.join(cwd, out))) await client.query(statement);
    } finally {
      await client.end();
    }
    return await catalogLines(rebuilt.url, schema);
  } finally {
    await rebuilt.drop();
  }
}

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
