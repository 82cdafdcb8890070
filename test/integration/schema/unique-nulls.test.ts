import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { postgresUrl } from '../../support/services.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';
import { databaseWithSchema } from './support.js';

/**
 * A MongoDB unique index lets exactly one document lack its field (missing counts as null);
 * the translated PostgreSQL index must refuse a second one too, or a dual-write could store
 * what MongoDB would have refused. A sparse unique index lets any number through, in both.
 */
describe.skipIf(!postgresUrl())('unique indexes translated from MongoDB', () => {
  let drop: () => Promise<void>;
  let db: TargetDatabase;

  beforeAll(async () => {
    ({ db, drop } = await databaseWithSchema(
      'unique_nulls',
      parsePlan(
        shopPlan([
          { name: 'email_1', key: { email: 1 }, unique: true },
          { name: 'name.first_1', key: { 'name.first': 1 }, unique: true, sparse: true },
        ]),
      ),
    ));
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  const insertUser = (id: string, email: string | null, first: string | null) =>
    db.query('insert into public.users (id, email, name_first) values ($1, $2, $3)', [id, email, first]);

  it('accepts one user without an email and refuses a second, as MongoDB does', async () => {
    await insertUser('00000000-0000-7000-8000-000000000001', null, 'Ada');
    await expect(insertUser('00000000-0000-7000-8000-000000000002', null, 'Lin')).rejects.toMatchObject({
      sqlState: '23505',
    });
  });

  it('lets any number of users without a first name through the sparse unique index', async () => {
    await insertUser('00000000-0000-7000-8000-000000000003', 'a@example.com', null);
    await insertUser('00000000-0000-7000-8000-000000000004', 'b@example.com', null);
    const { rows } = await db.query<{ n: number }>(
      'select count(*)::int as n from public.users where name_first is null',
    );
    expect(rows[0]?.n).toBe(2);
  });
});
