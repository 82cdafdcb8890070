import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePgType } from '../../../src/mapping/pg-types.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { diffSchemas } from '../../../src/schema/diff.js';
import { writeMigrations } from '../../../src/schema/migration-files.js';
import { isWidening } from '../../../src/schema/widening.js';
import { shopPlan } from './support/shop-plan.js';

const base = () => buildSchema(parsePlan(shopPlan([{ name: 'email_1', key: { email: 1 } }])));

describe('schema diff', () => {
  it('finds nothing between a plan and itself', () => {
    expect(diffSchemas(base(), base())).toEqual({
      beforeLoad: [],
      afterLoad: [],
      destructive: [],
      reloads: [],
    });
  });

  it('adds a new index after the load and calls a changed index destructive', () => {
    const changed = buildSchema(parsePlan(shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }])));
    const diff = diffSchemas(base(), changed);
    expect(diff.beforeLoad).toEqual([{ kind: 'drop_index', name: 'users_email_1' }]);
    expect(diff.afterLoad).toEqual([{ kind: 'create_index', index: changed.indexes[0] }]);
    expect(diff.destructive).toEqual(['drop or replace index users_email_1']);
  });

  it('installs and removes append-only guards as the flag changes, none destructive', () => {
    const plan = shopPlan([{ name: 'email_1', key: { email: 1 } }]);
    const ledgerLike = buildSchema(
      parsePlan({
        ...plan,
        collections: plan.collections.map((c) => ({ ...c, appendOnly: c.name === 'orders' })),
      }),
    );
    const tablesOfOrders = ledgerLike.tables.filter((t) => t.collection === 'orders').map((t) => t.name);
    expect(tablesOfOrders).toEqual(['orders']);
    const on = diffSchemas(base(), ledgerLike);
    expect(on.beforeLoad.map((s) => [s.kind, 'guard' in s ? s.guard.table : ''])).toEqual([
      ['create_append_only_function', ''],
      ...tablesOfOrders.map((t) => ['create_append_only_guard', t]),
    ]);
    expect(on.destructive).toEqual([]);
    const off = diffSchemas(ledgerLike, base());
    expect(off.beforeLoad.map((s) => s.kind)).toEqual(tablesOfOrders.map(() => 'drop_append_only_guard'));
    expect(diffSchemas(ledgerLike, ledgerLike).beforeLoad).toEqual([]);
  });

  it('creates a whole new collection with its tables and keys, and nothing destructive', () => {
    const plan = shopPlan([{ name: 'email_1', key: { email: 1 } }]);
    const smaller = { ...plan, collections: plan.collections.filter((c) => c.name !== 'categories') };
    const diff = diffSchemas(buildSchema(parsePlan(smaller)), base());
    expect(diff.beforeLoad.map((s) => s.kind)).toEqual(['create_table', 'comment_on_table']);
    expect(diff.afterLoad.map((s) => s.kind)).toEqual([
      'add_foreign_key',
      'create_capture_trigger',
      'create_capture_trigger',
      'create_capture_trigger',
    ]);
    expect(diff.destructive).toEqual([]);
  });

  it('installs the outbox capture triggers on every table of a schema whose snapshot predates them, destroying nothing', () => {
    const before = { ...base(), captureTriggers: [] };
    const diff = diffSchemas(before, base());
    expect(diff.beforeLoad).toEqual([]);
    expect(diff.afterLoad.every((s) => s.kind === 'create_capture_trigger')).toBe(true);
    expect(diff.afterLoad.length).toBe(base().tables.length * 3);
    expect(diff.destructive).toEqual([]);
  });
});

describe('migration files', () => {
  it('are byte-identical when written twice from the same plan', async () => {
    const [one, two] = [
      await mkdtemp(path.join(tmpdir(), 'ferry-m-')),
      await mkdtemp(path.join(tmpdir(), 'ferry-m-')),
    ];
    try {
      const a = await writeMigrations(one, base());
      const b = await writeMigrations(two, base());
      expect(a.written.map((f) => f.checksum)).toEqual(b.written.map((f) => f.checksum));
      expect(await readFile(path.join(one, 'ferry-snapshot.json'), 'utf8')).toBe(
        await readFile(path.join(two, 'ferry-snapshot.json'), 'utf8'),
      );
      expect((await writeMigrations(one, base())).written).toEqual([]);
    } finally {
      await rm(one, { recursive: true, force: true });
      await rm(two, { recursive: true, force: true });
    }
  });
});

describe('schema evolution diff', () => {
  const withUsers = (edit: (columns: Record<string, unknown>[]) => void) => {
    const plan = structuredClone(shopPlan([{ name: 'email_1', key: { email: 1 } }])) as unknown as {
      collections: { tables: { columns: Record<string, unknown>[] }[] }[];
    };
    edit(plan.collections[0]!.tables[0]!.columns);
    return buildSchema(parsePlan(plan as never));
  };

  it('renames a column declared with renamedFrom, keeps its index, and calls nothing destructive', () => {
    const renamed = withUsers((columns) => {
      Object.assign(columns.find((c) => c.name === 'email')!, { name: 'mail', renamedFrom: 'email' });
    });
    const diff = diffSchemas(base(), renamed);
    expect(diff.beforeLoad).toEqual([{ kind: 'rename_column', table: 'users', from: 'email', to: 'mail' }]);
    expect(diff.afterLoad).toEqual([]);
    expect(diff.destructive).toEqual([]);
    expect(diff.reloads).toEqual([]);
  });

  it('treats integer to bigint to numeric as widening, and the way back as a re-created collection', () => {
    expect(isWidening('integer', 'bigint')).toBe(true);
    expect(isWidening('bigint', 'numeric')).toBe(true);
    expect(isWidening('numeric(12,2)', 'numeric(20,4)')).toBe(true);
    expect(isWidening('integer[]', 'bigint[]')).toBe(true);
    expect(isWidening('bigint', 'integer')).toBe(false);
    expect(isWidening('bigint', 'double precision')).toBe(false);
    expect(isWidening('numeric(12,2)', 'numeric(12,4)')).toBe(false);
    expect(isWidening('text', 'integer')).toBe(false);
  });

  it('rounds a plain timestamptz column to timestamptz(3) in place, since a date holds milliseconds, and never to fewer digits', () => {
    expect(isWidening('timestamptz', 'timestamptz(3)')).toBe(true);
    expect(isWidening('timestamptz[]', 'timestamptz(3)[]')).toBe(true);
    expect(isWidening('timestamptz(3)', 'timestamptz')).toBe(true);
    expect(parsePgType('timestamptz(2)')).toMatchObject({ ok: false });
    expect(parsePgType('timestamptz(3)[]')).toEqual({
      ok: true,
      type: { base: 'timestamptz', precision: 3, array: true },
    });
  });

  it('re-creates a collection whose new column is NOT NULL and names it for a reload', () => {
    const stricter = withUsers((columns) => {
      columns.push({ name: 'score', path: ['score'], pgType: 'integer', sourceType: 'int', nullable: false });
    });
    const diff = diffSchemas(base(), stricter);
    expect(diff.beforeLoad.map((s) => s.kind)).toContain('drop_table');
    expect(diff.reloads).toEqual([{ collection: 'users', reason: 'table users is re-created' }]);
    expect(diff.destructive).toContain('drop table users');
  });
});
