import { describe, expect } from 'vitest';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { ddlPhases } from '../../../src/schema/phases.js';
import { compileStatement } from '../../../src/schema/statements.js';
import { test as base } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';

/**
 * A MongoDB unique index lets exactly one document lack its field (missing counts as null);
 * the translated PostgreSQL index must refuse a second one too, or a dual-write could store
 * what MongoDB would have refused. A sparse unique index lets any number through, in both.
 */
type InsertUser = (id: string, email: string | null, first: string | null) => Promise<unknown>;

const test = base.extend<{ insertUser: InsertUser }>({
  /** Inserts into the shop's users table, made once per file with a unique and a sparse unique index. */
  insertUser: [
    async ({ db }, use) => {
      const plan = parsePlan(
        shopPlan([
          { name: 'email_1', key: { email: 1 }, unique: true },
          { name: 'name.first_1', key: { 'name.first': 1 }, unique: true, sparse: true },
        ]),
      );
      const { beforeLoad, afterLoad } = ddlPhases(buildSchema(plan));
      for (const statement of [...beforeLoad, ...afterLoad]) {
        await db.query(compileStatement(statement, { kind: 'schema', name: 'public' }));
      }
      await use((id, email, first) =>
        db.query('insert into public.users (id, email, name_first) values ($1, $2, $3)', [id, email, first]),
      );
    },
    { scope: 'file' },
  ],
});

describe.skipIf(!postgresUrl())('unique indexes translated from MongoDB', () => {
  test('accepts one user without an email and refuses a second, as MongoDB does', async ({ insertUser }) => {
    await insertUser('00000000-0000-7000-8000-000000000001', null, 'Ada');
    await expect(insertUser('00000000-0000-7000-8000-000000000002', null, 'Lin')).rejects.toMatchObject({
      sqlState: '23505',
    });
  });

  test('lets any number of users without a first name through the sparse unique index', async ({
    insertUser,
    db,
  }) => {
    await insertUser('00000000-0000-7000-8000-000000000003', 'a@example.com', null);
    await insertUser('00000000-0000-7000-8000-000000000004', 'b@example.com', null);
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from public.users where name_first is null',
    );
    expect(rows[0]?.n).toBe(2);
  });
});
