import path from 'node:path';
import pg from 'pg';
import { test as base, expect } from 'vitest';
import { openTarget } from '../../src/target/open-target.js';
import type { TargetDatabase } from '../../src/target/target-database.js';
import { createTestDatabase } from './services.js';

/**
 * The one harness for tests against the real PostgreSQL. A test asks for what it needs by
 * name and gets it made, and cleaned up after, by vitest:
 *
 * - `pgUrl`: an empty database of this test file's own (files run in parallel and must not
 *   see each other's tables), created for the first test that asks and dropped after the
 *   file's last test;
 * - `db`: that database opened as a Ferry target, closed after the file's last test;
 * - `pgClient`: a plain `pg` connection to it, for SQL run the way psql would (scripts of
 *   several statements, PostgreSQL's own errors), closed after the file's last test;
 * - `ownPgUrl`: an empty database for this one test, dropped when it ends, for a test that
 *   needs a database nobody else has written to (a whole `ferry migrate`, say).
 *
 * Guard the suite with `describe.skipIf(!postgresUrl())`: outside CI a missing PostgreSQL
 * skips visibly, in CI it fails (see services.ts).
 *
 * @example
 * import { test } from '../../support/fixtures.js';
 *
 * test('loads the orders', async ({ db, pgUrl }) => {
 *   await backfill({ source, target: db, plan });
 *   expect(await sql(pgUrl, 'select count(*) as n from orders')).toEqual([{ n: '3' }]);
 * });
 *
 * A file that needs more set-up shared by its tests (tables made, data loaded) adds a
 * file-scoped fixture of its own on top: `test.extend({ loaded: [async ({ db }, use) => …,
 * { scope: 'file' }] })`.
 */
export interface PostgresFixtures {
  readonly pgUrl: string;
  readonly db: TargetDatabase;
  readonly pgClient: pg.Client;
  readonly ownPgUrl: string;
}

/** A short name for the databases of the running test file, so a leftover one says whose it is. */
function fileTag(): string {
  const file = expect.getState().testPath;
  return file ? path.basename(file).replace(/\.test\.ts$/, '') : 'test';
}

/** Hands a fixture a target opened on `url`, and closes it when the fixture is done. */
export async function useTarget(url: string, use: (db: TargetDatabase) => Promise<void>): Promise<void> {
  const db = await openTarget(url);
  try {
    await use(db);
  } finally {
    await db.close();
  }
}

export const test = base.extend<PostgresFixtures>({
  pgUrl: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
    async ({}, use) => {
      const database = await createTestDatabase(fileTag());
      try {
        await use(database.url);
      } finally {
        await database.drop();
      }
    },
    { scope: 'file' },
  ],
  db: [({ pgUrl }, use) => useTarget(pgUrl, use), { scope: 'file' }],
  pgClient: [
    async ({ pgUrl }, use) => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await use(client);
      } finally {
        await client.end();
      }
    },
    { scope: 'file' },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
  ownPgUrl: async ({}, use) => {
    const database = await createTestDatabase(`${fileTag()}_own`);
    try {
      await use(database.url);
    } finally {
      await database.drop();
    }
  },
});

export { test as it };
