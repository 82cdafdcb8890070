import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { postgresUrl } from '../../support/services.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';
import { databaseWithSchema } from './support.js';

/**
 * A MongoDB index on an array field (multikey, `tags_1`) serves `{ tags: 'x' }`; its
 * PostgreSQL translation must serve the same question, `tags @> array['x']`, with an index.
 */
describe.skipIf(!postgresUrl())('an index on an array field', () => {
  let drop: () => Promise<void>;
  let db: TargetDatabase;

  beforeAll(async () => {
    ({ db, drop } = await databaseWithSchema(
      'multikey_gin',
      parsePlan(shopPlan([{ name: 'tags_1', key: { tags: 1 } }])),
    ));
    await db.query(
      `insert into public.users (id, tags)
       select ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, array['t' || (n % 50), 'all']
         from generate_series(1, 2000) n`,
    );
    await db.query('analyze public.users');
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('is a GIN index that a containment query uses', async () => {
    const { rows: indexes } = await db.query<{ indexdef: string }>(
      `select indexdef from pg_indexes where tablename = 'users' and indexname = 'users_tags_1'`,
    );
    expect(indexes[0]?.indexdef).toMatch(/USING gin \(tags\)/);
    const plan = await db.transaction(async (tx) => {
      await tx.query('set local enable_seqscan = off');
      const { rows } = await tx.query<{ 'QUERY PLAN': string }>(
        `explain select id from public.users where tags @> array['t7']`,
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Bitmap Index Scan on users_tags_1/);
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from public.users where tags @> array['t7']`,
    );
    expect(rows[0]?.n).toBe(40);
  });
});
