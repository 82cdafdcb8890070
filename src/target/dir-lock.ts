import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { FerryError } from '../core/errors.js';

/**
 * A lock file beside a PGlite data directory. PGlite runs the PostgreSQL backend inside this
 * process and does not stop a second process (or a second instance in this one) from opening
 * the same files, which would corrupt them; so Ferry refuses instead. The file holds the
 * owner's pid, and a lock whose owner no longer runs (after `kill -9`) is taken over.
 */

/**
 * Take the lock at `lockPath`, or throw an environment error naming the holder. Returns the
 * function that releases it.
 *
 * @example
 * const unlock = lockDirectory('.ferry/pglite.lock', '.ferry/pglite');
 * try {
 *   // open the embedded database
 * } finally {
 *   unlock();
 * }
 */
export function lockDirectory(lockPath: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          unlinkSync(lockPath);
        } catch {
          // Already gone (removed by hand); nothing is held any more either way.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(what, lockPath, error);
    }
    const holder = readHolder(lockPath);
    if (holder !== undefined && holder !== process.pid && isRunning(holder)) {
      throw new FerryError(
        `the embedded database at ${what} is in use by another Ferry process (pid ${holder})`,
        {
          code: 'TARGET_EMBEDDED_LOCKED',
          category: 'environment',
          hint: `wait for it to finish, or use a PostgreSQL server with --target; if no such process runs, delete ${lockPath}`,
        },
      );
    }
    if (holder === process.pid) {
      throw new FerryError(`the embedded database at ${what} is already open in this process`, {
        code: 'TARGET_EMBEDDED_LOCKED',
        category: 'internal',
        hint: 'share one TargetDatabase instead of opening the directory twice',
      });
    }
    // The holder died without unlocking: its lock protects nothing.
    try {
      unlinkSync(lockPath);
    } catch {
      // Someone else removed it first; the next attempt decides.
    }
  }
  throw lockError(what, lockPath, undefined);
}

function readHolder(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockError(what: string, lockPath: string, cause: unknown): FerryError {
  return new FerryError(`cannot lock the embedded database at ${what} (${lockPath})`, {
    code: 'TARGET_EMBEDDED_LOCKED',
    category: 'environment',
    cause,
  });
}
