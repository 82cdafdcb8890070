import type pg from 'pg';
import { ferryTypes } from '../mapping/pg-parsers.js';
import { postgresTargetOnPool } from '../target/postgres-target.js';
import type { Queryable, QueryResult, TargetDatabase } from '../target/target-database.js';
import { queryError } from '../target/target-error.js';

const targets = new WeakMap<pg.Pool, TargetDatabase>();

/**
 * The application's pool as Ferry's `TargetDatabase` (transactions, errors without row values,
 * rows in Ferry's representation), one per pool. Never closed by the runtime: the pool is
 * the application's.
 *
 * @example
 * import type pg from 'pg';
 * declare const pool: pg.Pool;
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

/**
 * The transaction `lockedTransaction` hands to its callback.
 *
 * @example
 * declare const tx: LockedTransaction;
 * const [updated] = await tx.finish(["update ferry.gaps set attempts = attempts + 1 where id = 7"]);
 */
export interface LockedTransaction extends Queryable {
  /**
   * Run `statements` and COMMIT, all in one round trip (PostgreSQL's simple protocol, which
   * takes no parameters: every value must already be a quoted literal in the text). The
   * transaction is over afterwards; resolves to each statement's result.
   */
  finish(statements: readonly string[]): Promise<readonly QueryResult<Record<string, unknown>>[]>;
}

/**
 * A transaction on one of the pool's connections that starts holding the advisory locks
 * `lockKeys` (taken in the given order): BEGIN and the locks go in one round trip, which a
 * mirrored write pays on every copy. The keys are decimal bigints Ferry computed, never user
 * text, so they are written into the statement. Commits when `fn` resolves (unless `fn`
 * already did, with `tx.finish`), rolls back when it throws; errors are `TargetError`s
 * without row values, as from any Ferry query.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * import type pg from 'pg';
 * declare const pool: pg.Pool;
 * declare const id: ObjectId;
 * await lockedTransaction(pool, [entityLockKey('orders', id)], (tx) => tx.query('select 1'));
 */
export async function lockedTransaction<T>(
  pool: pg.Pool,
  lockKeys: readonly string[],
  fn: (tx: LockedTransaction) => Promise<T>,
): Promise<T> {
  for (const key of lockKeys)
    if (!/^-?\d{1,19}$/.test(key)) throw new Error(`not an advisory lock key: ${JSON.stringify(key)}`);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (cause) {
    throw queryError(cause);
  }
  const send = async (sql: string, params?: readonly unknown[]) => {
    try {
      return await client.query({ text: sql, values: params as unknown[] | undefined, types: ferryTypes });
    } catch (cause) {
      throw queryError(cause);
    }
  };
  const run = async <R>(sql: string, params?: readonly unknown[]) => {
    const result = (await send(sql, params)) as pg.QueryResult;
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  };
  let committed = false;
  const finish = async (statements: readonly string[]) => {
    // One simple-protocol message: the statements run in order, and an error skips the rest
    // of the message (the COMMIT among them), leaving the transaction to the rollback below.
    const results = (await send(`${statements.join(';\n')};\ncommit`)) as unknown as
      | pg.QueryResult
      | pg.QueryResult[];
    committed = true;
    const list = Array.isArray(results) ? results : [results];
    return list.slice(0, statements.length).map((r) => ({ rows: r.rows, rowCount: r.rowCount ?? 0 }));
  };
  let broken: Error | undefined;
  // Between two statements a lost connection is reported as an 'error' event, which the pool
  // listens for only on idle clients: unheard, it would crash the application's process
  // while PostgreSQL is down, where the mirror must only record a gap.
  const markBroken = (error: Error) => {
    broken = error;
  };
  client.on('error', markBroken);
  try {
    await run(
      `begin; select pg_advisory_xact_lock(k) from unnest('{${lockKeys.join(',')}}'::bigint[]) with ordinality as l(k, n) order by n`,
    );
    let result: T;
    try {
      result = await fn({ query: run, finish });
    } catch (error) {
      await run('rollback').catch((e: Error) => {
        broken = e;
      });
      throw error;
    }
    if (!committed)
      await run('commit').catch((e: Error) => {
        broken = e;
        throw e;
      });
    return result;
  } catch (error) {
    broken ??= error instanceof Error && /terminated|ECONN/i.test(error.message) ? error : undefined;
    throw error;
  } finally {
    client.off('error', markBroken);
    client.release(broken);
  }
}
