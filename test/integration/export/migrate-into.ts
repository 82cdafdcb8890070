import { expect } from 'vitest';
import type { Plan } from '../../../src/mapping/model.js';
import { migrate } from '../../../src/migrate/migrate.js';
import { openSource } from '../../../src/sources/open.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';

/**
 * Migrate the source at `location` into schema `src` of `db` (no verify), expecting every
 * document loaded; the plan it inferred. The export tests start from this.
 */
export async function migrateInto(
  db: TargetDatabase,
  location: string,
  migrationsDir: string,
): Promise<Plan> {
  const source = await openSource(location);
  try {
    const result = await migrate({
      source,
      sourceLocation: location,
      target: db,
      schemas: ['src'],
      migrationsDir,
      verify: 'none',
    });
    expect(result.backfill.collections.every((c) => c.rejected === 0 && c.migrated === c.read)).toBe(true);
    return result.plan;
  } finally {
    await source.close();
  }
}
