import type pg from 'pg';
import { FerryError } from '../core/errors.js';

/**
 * One step of the state Ferry keeps in schema `ferry` (DESIGN.md "State that Ferry keeps in
 * the target database"). Steps are applied in version order, once per database; add new
 * tables (runs, checkpoints, rejects, gaps, outbox, …) by appending a step with the next
 * version. Never edit a released step: databases that already ran it will not run it again.
 */
export interface StateMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Ferry's own state migrations, in order.
 *
 * @example
 * // a later module adds its table by appending:
 * // { version: 2, name: 'runs', sql: 'create table ferry.runs (…)' }
 */
export const STATE_MIGRATIONS: readonly StateMigration[] = Object.freeze([
  {
    version: 1,
    name: 'schema migrations',
    sql: `create table ferry.migrations (
  schema text not null,
  version integer not null,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now(),
  primary key (schema, version)
)`,
  },
]);

/**
 * The advisory lock key for state setup: two int4 halves, "ferr" and "stat" in ASCII, so the
 * key is recognisable in `pg_locks` and unlikely to collide with an application's own keys.
 */
const LOCK_KEY: readonly [number, number] = [0x66657272, 0x73746174];

/**
 * Create or upgrade schema `ferry` to the latest state version. Idempotent, and safe from
 * several processes at once: everything runs in one transaction that first takes a
 * transaction-scoped advisory lock, so a second caller waits, then finds the work done.
 * (`create … if not exists` alone is not enough: two concurrent `create schema if not exists`
 * can still fail with a unique violation on the catalog.)
 *
 * @example
 * const pool = await connectPostgres(url);
 * await ensureFerryState(pool);   // returns the versions it applied, [] when up to date
 */
export async function ensureFerryState(
  pool: pg.Pool,
  migrations: readonly StateMigration[] = STATE_MIGRATIONS,
): Promise<readonly number[]> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1, $2)', [LOCK_KEY[0], LOCK_KEY[1]]);
    await client.query('create schema if not exists ferry');
    await client.query(
      `create table if not exists ferry.state_migrations (
         version integer primary key,
         name text not null,
         applied_at timestamptz not null default now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>('select version from ferry.state_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(step.version)) continue;
      await client.query(step.sql);
      await client.query('insert into ferry.state_migrations (version, name) values ($1, $2)', [
        step.version,
        step.name,
      ]);
      applied.push(step.version);
    }
    await client.query('commit');
    return applied;
  } catch (cause) {
    await client.query('rollback').catch(() => {});
    throw new FerryError(`cannot set up Ferry's state schema "ferry": ${(cause as Error).message}`, {
      code: 'STATE_SETUP_FAILED',
      category: 'environment',
      cause,
      hint: 'the target user needs CREATE on the database; check permissions',
    });
  } finally {
    client.release();
  }
}
