import type { Db, MongoClient } from 'mongodb';
import type pg from 'pg';
import { redactUrl } from '../core/redact-url.js';
import { gapError } from '../runtime/gaps.js';
import type { StoreHealth } from './schemas.js';

/** How long a health probe waits for a round trip before it calls the store unreachable. */
const PROBE_TIMEOUT_MS = 3000;

/**
 * Round-trip PostgreSQL through the pool (`select 1`): connected or not, the latency, and the
 * pool's figures as `pg` counts them.
 */
export async function probePostgres(pool: pg.Pool, location: string): Promise<StoreHealth> {
  const result = await roundTrip(() => pool.query('select 1'));
  return {
    location: redactUrl(location),
    ...result,
    pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
  };
}

/**
 * The MongoDB driver keeps its pool figures to itself; its connection-pool monitoring events
 * (CMAP) say when connections open and close, and when an operation waits for, takes and
 * returns one. Counting them from when the client is handed over gives the same figures `pg`
 * reports. A client that already held connections then undercounts them until they cycle,
 * so the counts never go below zero.
 */
export class MongoPoolCounter {
  #total = 0;
  #checkedOut = 0;
  #waiting = 0;

  constructor(client: MongoClient) {
    client.on('connectionCreated', () => {
      this.#total += 1;
    });
    client.on('connectionClosed', () => {
      this.#total = Math.max(0, this.#total - 1);
    });
    client.on('connectionCheckOutStarted', () => {
      this.#waiting += 1;
    });
    client.on('connectionCheckOutFailed', () => {
      this.#waiting = Math.max(0, this.#waiting - 1);
    });
    client.on('connectionCheckedOut', () => {
      this.#waiting = Math.max(0, this.#waiting - 1);
      this.#checkedOut += 1;
    });
    client.on('connectionCheckedIn', () => {
      this.#checkedOut = Math.max(0, this.#checkedOut - 1);
    });
  }

  get figures(): StoreHealth['pool'] {
    return {
      total: this.#total,
      idle: Math.max(0, this.#total - this.#checkedOut),
      waiting: this.#waiting,
    };
  }
}

/** Round-trip MongoDB (`ping` on the database): connected or not, the latency, the pool. */
export async function probeMongo(db: Db, counter: MongoPoolCounter, location: string): Promise<StoreHealth> {
  const result = await roundTrip(() => db.command({ ping: 1 }));
  return { location: redactUrl(location), ...result, pool: counter.figures };
}

/**
 * Where a driver client points, for a client handed over without its URI: `mongodb://` and
 * its hosts and database, which never carry the credentials.
 */
export function mongoLocation(db: Db): string {
  const hosts = db.client.options.hosts.map((h) => h.toString()).join(',');
  return `mongodb://${hosts}/${db.databaseName}`;
}

async function roundTrip(
  query: () => Promise<unknown>,
): Promise<Pick<StoreHealth, 'connected' | 'latencyMs' | 'error'>> {
  const started = performance.now();
  try {
    await withProbeTimeout(query());
    return { connected: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    // The code and the error's class only: a driver's message can quote a URL or a value.
    return { connected: false, latencyMs: null, error: gapError(error) };
  }
}

/**
 * A probe's answer, or a TIMEOUT error after a few seconds: a health endpoint must say
 * "unreachable" while a load balancer still waits, whatever the pool's own timeouts are.
 *
 * @example
 * import type pg from 'pg';
 * declare const pool: pg.Pool;
 * const { rows } = await withProbeTimeout(pool.query('select 1 as one'));
 */
export async function withProbeTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })),
          PROBE_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
