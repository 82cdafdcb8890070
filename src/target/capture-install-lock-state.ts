import { installCaptureSql } from './capture-function.js';
import type { StateMigration } from './ferry-state.js';

/**
 * The advisory-lock key that serialises the creation of a capture function (state step 22),
 * paired with `hashtext` of the function's name: "fcap" (ferry capture) in ASCII, recognisable
 * in `pg_locks`.
 *
 * @example
 * // who is installing a capture trigger right now:
 * // select pid from pg_locks where locktype = 'advisory' and classid = 1717789040
 * const key = CAPTURE_INSTALL_LOCK;
 */
export const CAPTURE_INSTALL_LOCK = 0x66636170;

/**
 * State step 22: two capture triggers installed at the same moment no longer race to create
 * their shared capture function.
 *
 * Why: `ferry.outbox_install_capture` creates the function of a key column when
 * `to_regprocedure` does not find it. A `backfill --parallel` finishes two collections at once,
 * and each installs triggers on tables keyed by the same column (`id`), so both sessions saw no
 * function, both created it, and the second failed on `pg_proc`'s unique index. Now the check
 * and the creation run under a transaction-scoped advisory lock on the function's name: the
 * second session waits for the first to commit, then finds the function.
 */
export const CAPTURE_INSTALL_LOCK_STEP: StateMigration = {
  version: 22,
  name: 'capture functions are created one session at a time',
  sql: installCaptureSql(
    '      perform ferry.outbox_define_capture(key_column);',
    `perform pg_advisory_xact_lock(${CAPTURE_INSTALL_LOCK}, hashtext(fn));`,
  ),
};
