import { existsSync } from 'node:fs';
import path from 'node:path';

/** Where the embedded database lives when neither `--target` nor `DATABASE_URL` is given. */
export const DEFAULT_EMBEDDED_DIR = path.join('.ferry', 'pglite');

/**
 * Whether the embedded database was ever created here. Read-only commands ask before opening
 * it, because opening creates it (an initdb of tens of seconds and a folder the user did not
 * ask for). Kept apart from pglite-target.ts so asking does not load PGlite.
 *
 * @example
 * if (!embeddedTargetExists()) console.log('nothing loaded here yet');
 */
export function embeddedTargetExists(dir: string = DEFAULT_EMBEDDED_DIR): boolean {
  return existsSync(path.join(path.resolve(dir), 'PG_VERSION'));
}
