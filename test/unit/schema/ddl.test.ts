import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { loadOrder } from '../../../src/schema/load-order.js';
import { ddlPhases } from '../../../src/schema/phases.js';
import { bindSchema, quoteLiteral } from '../../../src/schema/sql-text.js';
import { renderSql } from '../../../src/schema/statements.js';
import { col, collection, objectIdColumn, planOf, table } from '../../support/plans.js';
import { shopPlan } from './support/shop-plan.js';

const app = { kind: 'schema', name: 'app' } as const;

describe('DDL from a plan', () => {
  it('gives byte-identical SQL for the same plan, built twice', () => {
    const a = ddlPhases(buildSchema(parsePlan(shopPlan())));
    const b = ddlPhases(buildSchema(parsePlan(shopPlan())));
    expect(renderSql([...a.beforeLoad, ...a.afterLoad], app)).toBe(
      renderSql([...b.beforeLoad, ...b.afterLoad], app),
    );
  });

  it('captures every table into the outbox after the load: the root on its key, a child table of any depth on the root key it holds', () => {
    const sql = renderSql(ddlPhases(buildSchema(parsePlan(shopPlan()))).afterLoad, app);
    const install = (table: string, event: string, key: string) =>
      `perform ferry.outbox_install_capture((select typrelid::regclass from pg_type where oid = pg_typeof(null::"app"."${table}")), 'ferry_capture_${event}', '${event}', 'users', '${key}')`;
    expect(sql).toContain(install('users', 'update', 'id'));
    expect(sql).toContain(install('users_addresses_lines', 'insert', 'parent_id'));
    expect(sql).toContain(install('users_addresses', 'delete', 'parent_id'));
  });

  it('keys child tables on the parent key plus the ordinal, and adds their cascading foreign key to the parent after the load', () => {
    const phases = ddlPhases(buildSchema(parsePlan(shopPlan())));
    const sql = renderSql(phases.beforeLoad, app);
    expect(sql).toContain(
      'constraint "users_addresses_lines_pkey" primary key ("parent_id", "parent_idx", "idx")',
    );
    const parentKey =
      'foreign key ("parent_id", "parent_idx") references "app"."users_addresses" ("parent_id", "idx") on delete cascade';
    expect(sql).not.toContain(parentKey);
    expect(renderSql(phases.afterLoad, app)).toContain(parentKey);
    expect(sql).toContain('constraint "users_settings_pkey" primary key ("parent_id", "key")');
    expect(sql).toContain('"_extra" jsonb');
    expect(sql).toContain('"owner_kind" = \'guest\' and "owner_ref" is not null');
  });

  it('creates reference foreign keys after the load and marks the ones that close a cycle', () => {
    const model = buildSchema(parsePlan(shopPlan()));
    const { beforeLoad, afterLoad } = ddlPhases(model);
    expect(renderSql(beforeLoad, app)).not.toContain('favorite_order_fkey');
    expect(renderSql(afterLoad, app)).toContain(
      'alter table "app"."categories" drop constraint if exists "categories_parent_id_fkey", add constraint "categories_parent_id_fkey" foreign key ("parent_id") references "app"."categories" ("id")',
    );
    expect(model.foreignKeys.filter((fk) => fk.breaksCycle).map((fk) => fk.name)).toEqual([
      'users_favorite_order_fkey',
      'orders_user_id_fkey',
      'categories_parent_id_fkey',
    ]);
  });

  it('quotes identifiers that contain quotes and keeps long generated names within 63 bytes', () => {
    const long = 'a_very_long_collection_name_that_goes_on_and_on_for_quite_a_wh';
    const plan = planOf(
      collection(
        long,
        [table(long, [objectIdColumn, col('we"ird', ['weird'], 'text', 'string')])],
        [{ name: 'we"ird_1_and_a_long_index_name', key: { weird: 1 } }],
      ),
    );
    const model = buildSchema(parsePlan(plan));
    const names = [model.tables[0]!.primaryKey.name, ...model.indexes.map((i) => i.name)];
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(new Set(names).size).toBe(names.length);
    expect(renderSql(ddlPhases(model).beforeLoad, app)).toContain('"we""ird" text');
    expect(buildSchema(parsePlan(plan))).toEqual(model);
  });

  it('binds the schema placeholder but never inside a string literal', () => {
    const literal = quoteLiteral('a :"schema" b');
    const sql = bindSchema(`comment on table :"schema"."t" is ${literal}`, 'prod');
    expect(sql).toBe(`comment on table "prod"."t" is ${literal}`);
    expect(literal).not.toContain(':"schema"');
  });
});

describe('load order', () => {
  it('puts a referenced table before the table that references it when there is no cycle', () => {
    const { order, cycleBreakers } = loadOrder(
      ['items', 'orders', 'users'],
      [
        { from: 'items', to: 'orders', kind: 'reference' },
        { from: 'orders', to: 'users', kind: 'reference' },
      ],
    );
    expect(order).toEqual(['users', 'orders', 'items']);
    expect(cycleBreakers.size).toBe(0);
  });

  it('breaks a self-reference and a two-table cycle, and still orders the rest by their edges', () => {
    const { order, cycleBreakers } = loadOrder(
      ['reviews', 'users', 'orders', 'categories'],
      [
        { from: 'users', to: 'orders', kind: 'reference' },
        { from: 'orders', to: 'users', kind: 'reference' },
        { from: 'categories', to: 'categories', kind: 'reference' },
        { from: 'reviews', to: 'orders', kind: 'reference' },
      ],
    );
    expect([...cycleBreakers].sort()).toEqual([0, 1, 2]);
    expect(order.indexOf('reviews')).toBeGreaterThan(order.indexOf('orders'));
    expect(order).toHaveLength(4);
  });

  it('never breaks a parent link: a child always follows its parent', () => {
    const { order, cycleBreakers } = loadOrder(
      ['a', 'a_children', 'b'],
      [
        { from: 'a_children', to: 'a', kind: 'parent' },
        { from: 'a', to: 'b', kind: 'reference' },
        { from: 'b', to: 'a_children', kind: 'reference' },
      ],
    );
    expect(cycleBreakers.has(0)).toBe(false);
    expect(order.indexOf('a_children')).toBeGreaterThan(order.indexOf('a'));
  });
});
