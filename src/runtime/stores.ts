import type pg from 'pg';
import { postgresTargetOnPool } from '../target/postgres-target.js';
import type { TargetDatabase } from '../target/target-database.js';

const targets = new WeakMap<pg.Pool, TargetDatabase>();

/**
 * The application's pool as Ferry's `TargetDatabase` (transactions, errors without row values,
 * rows in Ferry's representation), one per pool. Never closed by the runtime: the pool is
 * the application's.
 *
 * @example
 * await targetOf(pool).transaction((tx) => tx.query('select 1'));
 */
export function targetOf(pool: pg.Pool): TargetDatabase {
  let target = targets.get(pool);
  if (target === undefined) {
    target = postgresTargetOnPool(pool);
    targets.set(pool, target);
  }
  return target;
}
