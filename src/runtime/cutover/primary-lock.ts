import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { FerryError } from '../../core/errors.js';
import { isPhase, type Phase, unknownDomain } from '../domains.js';

/**
 * The domain lock (DESIGN.md runtime rule 3, "one primary at a time, everywhere"). Around the
 * pg_read ↔ pg_primary boundary every runtime write holds `pg_advisory_xact_lock_shared` on
 * the domain's key in a PostgreSQL transaction, and reads the domain's phase inside it, after
 * the lock is granted; the primary flip takes the same key exclusively. So a flip waits for
 * the writes in flight, new writes queue behind it (PostgreSQL grants no shared lock past a
 * waiting exclusive one), and a write that was waiting reads the phase the flip committed:
 * no write reaches the old primary after the change commits.
 */

/**
 * The advisory lock key of a domain: the first 8 bytes of a SHA-256 of a fixed prefix and the
 * name, as a signed decimal bigint (the form `pg_advisory_xact_lock(bigint)` takes).
 *
 * @example
 * domainLockKey('money') === domainLockKey('money')   // true: every process computes the same key
 */
export function domainLockKey(domain: string): string {
  return createHash('sha256')
    .update('ferry:domain\u0000')
    .update(domain)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

/**
 * Whether MongoDB is the primary in a phase (`mongo` … `pg_read`).
 *
 * @example
 * mongoIsPrimary('pg_read')      // true
 * mongoIsPrimary('pg_primary')   // false
 */
export function mongoIsPrimary(phase: Phase): boolean {
  switch (phase) {
    case 'mongo':
    case 'dual_write':
    case 'shadow_read':
    case 'pg_read':
      return true;
    case 'pg_primary':
    case 'pg_only':
      return false;
  }
}

/**
 * Whether a write in this phase (as a runtime last read it) must hold the domain lock: the
 * phases either side of the primary's move. Before `pg_read` the primary cannot move without
 * the domain having been in `pg_read` for the settle time (the cutover gate), which every
 * runtime sees within its poll interval; in `pg_only` it never moves again.
 *
 * @example
 * needsDomainLock('shadow_read')   // false: MongoDB writes need no PostgreSQL here
 * needsDomainLock('pg_primary')    // true
 */
export function needsDomainLock(phase: Phase): boolean {
  return phase === 'pg_read' || phase === 'pg_primary';
}

/** What a write running under the domain lock knows: the domain and its phase, read under the lock. */
export interface PrimaryScope {
  readonly domain: string;
  readonly phase: Phase;
}

const scopes = new AsyncLocalStorage<PrimaryScope>();

/**
 * The domain lock this async context holds, if any (so a wrapped collection used inside
 * `withPrimary`'s MongoDB branch does not take the lock a second time, which would queue
 * behind a waiting flip and deadlock with it).
 *
 * @example
 * const scope = heldPrimaryScope('money');
 * if (scope !== undefined) console.log('writing under the lock, in phase', scope.phase);
 */
export function heldPrimaryScope(domain: string): PrimaryScope | undefined {
  const scope = scopes.getStore();
  return scope?.domain === domain ? scope : undefined;
}

/**
 * Run `fn` inside a transaction on `pool` that holds the domain's lock shared, with the phase
 * read after the lock was granted. Commits when `fn` resolves, rolls back when it throws.
 * `fn` gets the transaction's client: a PostgreSQL write made on it commits under the lock.
 *
 * @example
 * import type pg from 'pg';
 * declare const pool: pg.Pool;
 * await underDomainLock(pool, 'money', async (phase, client) => {
 *   if (phase === 'pg_primary') await client.query('update wallets set balance = balance - 5 where id = $1', [7]);
 * });
 */
export async function underDomainLock<T>(
  pool: pg.Pool,
  domain: string,
  fn: (phase: Phase, client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A lost connection between statements is an 'error' event the pool hears only on idle clients.
  const markBroken = (error: Error) => {
    broken = error;
  };
  client.on('error', markBroken);
  try {
    await client.query('begin');
    try {
      // Two statements: the phase's snapshot must be taken after the lock is granted.
      await client.query(`select pg_advisory_xact_lock_shared(${domainLockKey(domain)})`);
      const { rows } = await client.query<{ phase: string }>(
        'select phase from ferry.domains where name = $1',
        [domain],
      );
      const phase = rows[0]?.phase;
      if (phase === undefined || !isPhase(phase)) throw unknownDomain(domain);
      const result = await scopes.run({ domain, phase }, () => fn(phase, client));
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch((e: Error) => {
        broken = e;
      });
      throw error;
    }
  } finally {
    client.off('error', markBroken);
    client.release(broken);
  }
}

/**
 * The error for a MongoDB write in a phase where PostgreSQL is the primary.
 *
 * @example
 * throw mongoWriteRefused('money', 'orders', 'pg_primary');
 */
export function mongoWriteRefused(domain: string, collection: string, phase: Phase): FerryError {
  return new FerryError(
    `a MongoDB write to ${collection} was refused: domain "${domain}" is in phase ${phase}, where PostgreSQL is the primary`,
    {
      code: 'CUTOVER_MONGO_WRITE_REFUSED',
      category: 'problem',
      hint: 'write through runtime.withPrimary(domain, { mongo, pg }), which runs the branch of the current primary; the outbox feeds MongoDB',
    },
  );
}
