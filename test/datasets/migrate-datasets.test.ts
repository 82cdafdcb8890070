import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { runFerry } from '../support/cli.js';
import { test } from '../support/fixtures.js';
import { datasetPath, postgresUrl } from '../support/services.js';

interface MigrateJson {
  ok: boolean;
  inferred?: { configFile?: string };
  verify: {
    ok: boolean;
    level: string;
    collections: { collection: string; matched: number; missing: number; content: number }[];
  }[];
  backfill: {
    wroteNothing: boolean;
    collections: {
      collection: string;
      read: number;
      migrated: number;
      rejected: number;
      rows: Record<string, number>;
    }[];
  };
}

const cases = [
  ['sample_supplies.archive.gz', { sales: 5000 }],
  ['sample_mflix', { sessions: 1, theaters: 1564, users: 185 }],
  ['sample_analytics/accounts.json', { accounts: 1746 }],
] as const;

describe.skipIf(!postgresUrl())('ferry migrate on every real dataset', () => {
  for (const [dataset, expected] of cases) {
    // A missing dataset skips visibly here (and fails the file in CI, see services.ts).
    const source = datasetPath(dataset);
    test.skipIf(source === undefined)(
      `loads ${dataset} with counts equal to the source and zero rejects, then a rerun writes nothing`,
      async ({ ownPgUrl: url }) => {
        const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-migrate-'));

        const first = await runFerry(['migrate', source!, '--target', url, '--json'], { cwd });
        expect(first.code, first.stderr).toBe(0);
        const result = JSON.parse(first.stdout) as MigrateJson;
        expect(result.ok).toBe(true);
        expect(result.inferred?.configFile).toBe('ferry.config.ts');
        const counts = Object.fromEntries(result.backfill.collections.map((c) => [c.collection, c.migrated]));
        expect(counts).toEqual(expected);
        for (const c of result.backfill.collections) {
          expect(c.rejected).toBe(0);
          expect(c.read).toBe(c.migrated);
        }

        const second = await runFerry(['migrate', source!, '--target', url, '--json'], { cwd });
        expect(second.code, second.stderr).toBe(0);
        const again = JSON.parse(second.stdout) as MigrateJson;
        expect(again.inferred).toBeUndefined();
        expect(again.backfill.wroteNothing).toBe(true);

        const check = await runFerry(['schema', 'check', '--target', url], { cwd });
        expect(check.code, check.stdout).toBe(0);
      },
    );
  }
});
