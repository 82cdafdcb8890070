import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

/**
 * `ferry.oid_to_uuid(text)` and `ferry.uuid_to_oid(uuid)`, installed with Ferry's state, are
 * the identity function of src/mapping/identity.ts in SQL: for any ObjectId they give what the
 * TypeScript gives, on PostgreSQL and on the embedded PGlite target.
 */
const hexId = fc.stringMatching(/^[0-9a-f]{24}$/);
const edgeIds = ['000000000000000000000000', 'ffffffffffffffffffffffff', '64b7f1c2a9e3d40012345678'];

async function checkBothWays(db: TargetDatabase): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(hexId, { minLength: 1, maxLength: 200 }), async (ids) => {
      const all = [...edgeIds, ...ids];
      const { rows } = await db.query<{ oid: string; uuid: string; back: string; upper: string }>(
        `select oid, ferry.oid_to_uuid(oid)::text as uuid,
                ferry.uuid_to_oid(ferry.oid_to_uuid(oid)) as back,
                ferry.oid_to_uuid(upper(oid))::text as upper
           from unnest($1::text[]) with ordinality as t(oid, n) order by n`,
        [all],
      );
      expect(rows.map((r) => r.uuid)).toEqual(all.map((id) => objectIdToUuid(id)));
      expect(rows.map((r) => r.back)).toEqual(all);
      expect(rows.map((r) => r.upper)).toEqual(rows.map((r) => r.uuid));
    }),
    { numRuns: 20 },
  );
}

async function checkRefusals(db: TargetDatabase): Promise<void> {
  await expect(db.query(`select ferry.oid_to_uuid('not-an-objectid')`)).rejects.toThrow(
    /expects an ObjectId.*\[22023\]/,
  );
  // A random (version 4) uuid, and a v7 one whose milliseconds are not whole seconds.
  await expect(db.query(`select ferry.uuid_to_oid('0f8fad5b-d9cb-469f-a165-70867728950e')`)).rejects.toThrow(
    /expects a uuid that Ferry made from an ObjectId/,
  );
  await expect(db.query(`select ferry.uuid_to_oid('01896e88-5dd1-7fea-a9e3-d40012345678')`)).rejects.toThrow(
    /expects a uuid that Ferry made from an ObjectId/,
  );
  const { rows } = await db.query<{ v: string | null }>('select ferry.oid_to_uuid(null)::text as v');
  expect(rows[0]!.v).toBeNull();
}

describe.skipIf(!postgresUrl())('the identity functions in PostgreSQL', () => {
  let db: TargetDatabase;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const created = await createTestDatabase('identity_sql');
    drop = created.drop;
    db = await openTarget(created.url);
    await ensureFerryState(db);
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('give what objectIdToUuid gives, and uuid_to_oid inverts it, for many ObjectIds', async () => {
    await checkBothWays(db);
  });

  it('refuse what is not an ObjectId, or not a uuid made from one, without echoing it', async () => {
    await checkRefusals(db);
  });
});

describe('the identity functions in the embedded target (PGlite)', () => {
  let db: TargetDatabase;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-identity-'));
    db = await openTarget(undefined, { embeddedDir: dir });
    await ensureFerryState(db);
  });
  afterAll(async () => {
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('give what objectIdToUuid gives, and uuid_to_oid inverts it, for many ObjectIds', async () => {
    await checkBothWays(db);
  });

  it('refuse what is not an ObjectId, or not a uuid made from one', async () => {
    await checkRefusals(db);
  });
});
