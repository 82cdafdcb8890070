import { describe, expect } from 'vitest';
import { runFerry } from '../support/cli.js';
import { test } from '../support/fixtures.js';
import { appWith, roundTrip } from '../support/orm-tools.js';
import { datasetPath, postgresUrl } from '../support/services.js';

/**
 * The Drizzle round trip on every shared dataset: the mapping `ferry infer` proposes is
 * applied by Ferry's own migrations, exported, compiled with `tsc --strict`, compared with
 * the database by `drizzle-kit push --strict` (no changes) and by a rebuild from
 * `drizzle-kit generate` (the same columns, constraints and indexes), and the Prisma schema
 * passes `prisma validate`.
 */
const DATASETS = ['sample_supplies.archive.gz', 'sample_mflix', 'sample_analytics/accounts.json'] as const;

describe.skipIf(!postgresUrl())('ferry schema export on every real dataset', () => {
  for (const dataset of DATASETS) {
    // A missing dataset skips visibly here (and fails the file in CI, see services.ts).
    const source = datasetPath(dataset);
    test.skipIf(source === undefined)(
      `exports ${dataset} as a Drizzle file that drizzle-kit finds identical to the applied schema, and a valid Prisma schema`,
      async ({ ownPgUrl: url }) => {
        const cwd = await appWith(undefined);
        const inferred = await runFerry(['infer', source!], { cwd });
        expect(inferred.code, inferred.stderr).toBe(0);
        const { drizzle, prisma } = await roundTrip(cwd, url, 'public');
        expect(drizzle).toMatch(/export const \w+ = pgTable\(/);
        expect(prisma).toMatch(/\nmodel \w+ \{/);
      },
    );
  }
});
