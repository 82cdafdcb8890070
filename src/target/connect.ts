import pg from 'pg';
import { FerryError } from '../core/errors.js';
import { redactUri } from '../core/redact.js';

/** Connection errors from the network or the server that say "the database is not there". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
]);
/** SQLSTATEs meaning the server answered but refused us: bad password, missing database or role. */
const REFUSED_SQLSTATES = new Set(['28P01', '28000', '3D000']);

/**
 * Open a `pg` pool and prove it works with one round trip, so a bad URL fails here with a
 * clear environment error (exit 3) instead of deep inside a backfill.
 *
 * @example
 * const pool = await connectPostgres(process.env.DATABASE_URL!);
 * await pool.query('select 1');
 */
export async function connectPostgres(
  url: string,
  options: {
    max?: number;
    connectTimeoutMs?: number;
    types?: pg.CustomTypesConfig;
    /** Awaited on every new connection before it is handed out; a throw fails that connect. */
    onConnect?: (client: pg.ClientBase) => Promise<void>;
  } = {},
) {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Per-pool type parsers (pg-parsers.ts), never the global registry the app shares.
    ...(options.types === undefined ? {} : { types: options.types }),
    ...(options.onConnect === undefined ? {} : { onConnect: options.onConnect }),
  });
  // Idle clients can die with the server; without a listener that error would crash the process.
  pool.on('error', () => {});
  try {
    await pool.query('select 1');
  } catch (cause) {
    await pool.end().catch(() => {});
    throw postgresConnectError(url, cause);
  }
  return pool;
}

export function postgresConnectError(url: string, cause: unknown): FerryError {
  const code = (cause as { code?: string }).code ?? '';
  const reason = cause instanceof Error ? cause.message : String(cause);
  if (REFUSED_SQLSTATES.has(code)) {
    return new FerryError(`PostgreSQL at ${redactUri(url)} refused the connection: ${reason}`, {
      code: 'TARGET_REFUSED',
      category: 'environment',
      class: 'terminal',
      cause,
      hint: 'check the user, password and database name in --target or DATABASE_URL',
    });
  }
  const unreachable = UNREACHABLE_CODES.has(code) || /timeout|terminated/i.test(reason);
  return new FerryError(`cannot connect to PostgreSQL at ${redactUri(url)}: ${reason}`, {
    code: unreachable ? 'TARGET_UNREACHABLE' : 'TARGET_CONNECT_FAILED',
    category: 'environment',
    cause,
    hint: 'is the server running and the address right?',
  });
}
