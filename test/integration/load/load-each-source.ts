import { expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import type { Plan } from '../../../src/mapping/model.js';
import { openSource } from '../../../src/sources/open.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';

/**
 * Backfill each source into its own schema with the same plan, expecting every one to load
 * all `docs` documents of its one collection without a reject: the set-up of the tests that
 * compare the rows one source path writes with another's.
 */
export async function loadEachSource(
  db: TargetDatabase,
  plan: Plan,
  docs: number,
  sources: readonly (readonly [location: string, schema: string])[],
): Promise<void> {
  for (const [location, schema] of sources) {
    const source = await openSource(location);
    try {
      const summary = await backfill({ source, target: db, plan, schemas: [schema] });
      expect(summary.ok).toBe(true);
      expect(summary.collections.map((c) => [c.run.read, c.run.migrated, c.run.rejected])).toEqual([
        [docs, docs, 0],
      ]);
    } finally {
      await source.close();
    }
  }
}
