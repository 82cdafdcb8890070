import { describe, expect } from 'vitest';
import { collectStats } from '../../src/infer/collect-stats.js';
import { proposeMapping } from '../../src/infer/propose.js';
import { backfill } from '../../src/load/backfill.js';
import { openSource } from '../../src/sources/open.js';
import type { Source } from '../../src/sources/types.js';
import { verify } from '../../src/verify/verify.js';
import { test } from '../support/fixtures.js';
import { datasetPath, postgresUrl } from '../support/services.js';

/**
 * The real datasets, through what `ferry migrate` does (infer a mapping, backfill) and then
 * `verify`: every document must come back canonically equal, every count must agree.
 */
const url = postgresUrl();
const DATASETS = [
  ['sample_supplies.archive.gz', 'supplies'],
  ['sample_mflix/users.json', 'mflix_users'],
  ['sample_mflix/theaters.json', 'mflix_theaters'],
  ['sample_mflix/sessions.json', 'mflix_sessions'],
  ['sample_analytics/accounts.json', 'analytics'],
] as const;

describe.skipIf(!url)('ferry verify passes on every real dataset after infer and backfill', () => {
  for (const [relative, schema] of DATASETS) {
    // A missing dataset skips visibly here (and fails the file in CI, see services.ts).
    const file = datasetPath(relative);
    test.skipIf(file === undefined)(
      `${relative} verifies deep with every document matched`,
      async ({ db }) => {
        const withSource = async <T>(fn: (source: Source) => Promise<T>): Promise<T> => {
          const source = await openSource(file!);
          try {
            return await fn(source);
          } finally {
            await source.close();
          }
        };
        const plan = await withSource(async (source) => {
          const indexes = Object.fromEntries(
            (await source.listCollections()).map((c) => [c.name, c.indexes]),
          );
          return proposeMapping((await collectStats(source)).snapshot(), { indexes }).plan;
        });
        await withSource((source) => backfill({ source, target: db, plan, schemas: [schema] }));
        const started = performance.now();
        const result = await withSource((source) => verify({ source, db, plan, schema }));
        const seconds = (performance.now() - started) / 1000;
        const docs = result.collections.reduce((n, c) => n + c.sourceCount, 0);
        console.info(
          `${relative}: ${docs} documents verified in ${seconds.toFixed(2)}s (${Math.round(docs / seconds)} docs/s)`,
        );
        for (const c of result.collections)
          expect(c, c.collection).toMatchObject({
            ok: true,
            missing: 0,
            extra: 0,
            content: 0,
            matched: c.sourceCount - c.rejected,
          });
        expect(result.ok).toBe(true);
      },
      180_000,
    );
  }
});
