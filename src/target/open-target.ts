import { FerryError } from '../core/errors.js';
import { redactUri } from '../core/redact.js';
import type { PostgresTargetOptions } from './postgres-target.js';
import type { TargetDatabase } from './target-database.js';

/**
 * How the target is opened: the pool of a server, or the directory of the embedded database.
 *
 * @example
 * await openTarget(undefined, { embeddedDir: '/tmp/ferry-demo/pglite' });
 */
export interface OpenTargetOptions extends PostgresTargetOptions {
  /** The embedded database's data directory when no URL is given; default `./.ferry/pglite`. */
  readonly embeddedDir?: string;
}

/**
 * The target the command line names (DESIGN.md "Command line"): a `postgres://` or
 * `postgresql://` URL opens a PostgreSQL pool; no URL (undefined or empty, as an unset
 * `DATABASE_URL` reads) opens the embedded PGlite database. Anything else is a usage error
 * (exit 2); a server that cannot be reached is an environment error (exit 3). The password
 * never appears in either message.
 *
 * @example
 * declare const options: { target?: string };
 * const db = await openTarget(options.target ?? process.env.DATABASE_URL);
 * try {
 *   await db.query('select 1');
 * } finally {
 *   await db.close();
 * }
 */
export async function openTarget(
  url: string | undefined,
  options: OpenTargetOptions = {},
): Promise<TargetDatabase> {
  if (url === undefined || url.trim() === '') {
    // Each target's driver is imported on use: a command pays for PGlite or pg, never both.
    const { openPgliteTarget } = await import('./pglite-target.js');
    return openPgliteTarget(options.embeddedDir === undefined ? {} : { dir: options.embeddedDir });
  }
  if (/^postgres(ql)?:\/\//i.test(url.trim())) {
    // A URL that does not parse is the user's typo, not an unreachable server: exit 2, not 3.
    if (!URL.canParse(url.trim()))
      throw new FerryError(`the target ${redactUri(url)} is not a valid URL`, {
        code: 'TARGET_BAD_URL',
        category: 'usage',
        hint: 'check the host, the port (a number) and that special characters in the password are %-encoded',
      });
    const { embeddedDir: _ignored, ...pgOptions } = options;
    const { openPostgresTarget } = await import('./postgres-target.js');
    return openPostgresTarget(url.trim(), pgOptions);
  }
  throw new FerryError(`the target ${redactUri(url)} is not a PostgreSQL URL`, {
    code: 'TARGET_BAD_URL',
    category: 'usage',
    hint: 'give --target or DATABASE_URL as postgres://user:password@host:5432/database, or neither to use the embedded database under ./.ferry/',
  });
}
