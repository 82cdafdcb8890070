import { captureFunctionTemplate, installCaptureSql, outboxEnqueueSql } from './capture-function.js';
import type { StateMigration } from './ferry-state.js';

/**
 * The advisory-lock keys of the outbox's wake-up (state step 21), each paired with
 * `hashtext(schema)`: "fobs" (ferry outbox sleepers) and "fobg" (ferry outbox gate) in ASCII,
 * recognisable in `pg_locks`. Two schemas whose names hash alike share them, which costs at
 * most a needless notification or a gate wait, never a missed one.
 *
 * @example
 * // which workers sleep on schema public:
 * // select pid from pg_locks where locktype = 'advisory' and classid = 1718575731 and granted
 * const [sleepers, gate] = [OUTBOX_SLEEPERS_LOCK, OUTBOX_GATE_LOCK];
 */
export const OUTBOX_SLEEPERS_LOCK = 0x666f6273;
export const OUTBOX_GATE_LOCK = 0x666f6267;

/**
 * State step 21: the capture notifies only when a worker sleeps.
 *
 * Why: a NOTIFY takes a cluster-wide lock at commit and holds it through the commit's WAL flush,
 * so notifying transactions commit one at a time (8 writers on a durable cluster did 49% fewer
 * transactions/s with capture). A worker that is delivering, or polling fast after a busy
 * batch, needs no notification; only a sleeping one does.
 *
 * The protocol, with two advisory locks per schema (never a table: a worker that dies loses its
 * locks with its connection, so its mark can never outlive it):
 * - A worker about to sleep takes the **sleepers** lock in shared mode on its LISTEN connection
 *   (`ferry.outbox_sleep`), then the **gate** lock in exclusive mode, briefly, and then looks
 *   at the queue once more before it sleeps. On waking it gives the sleepers lock back
 *   (`ferry.outbox_awake`).
 * - A writing transaction, at its first event (`ferry.outbox_wake`), takes the gate in shared
 *   mode until it commits, and notifies when the gate is taken or a sleeper exists (an
 *   exclusive try of the sleepers lock fails; when it succeeds it is given back at once).
 * - No wake-up is lost: a writer that found no sleeper holds the gate until it commits, so the
 *   worker's exclusive gate waits for that commit, and its second look at the queue sees the
 *   event; a writer that comes after the worker took the sleepers lock sees the sleeper or
 *   the taken gate, and notifies. Two writers trying the sleepers lock at the same instant
 *   may both notify: a needless notification, the harmless direction.
 * - Locks, not rows: they ignore snapshots, so a REPEATABLE READ writer sees a sleeper as
 *   soon as one exists.
 * Existing generated capture functions (state step 19) are redefined in place, and
 * `ferry.outbox_enqueue` (explicit events) follows the same rule.
 */
export const OUTBOX_WAKE_STEP: StateMigration = {
  version: 21,
  name: 'outbox notifies sleeping workers only',
  sql: `do $step$
declare
  f record;
  key_column text;
begin
  create or replace function ferry.outbox_wake(target_schema text) returns void
  language plpgsql as $f$
  declare
    k integer := hashtext(target_schema);
  begin
    if not pg_try_advisory_xact_lock_shared(${OUTBOX_GATE_LOCK}, k) then
      perform pg_notify('ferry_outbox', target_schema);
    elsif pg_try_advisory_lock(${OUTBOX_SLEEPERS_LOCK}, k) then
      perform pg_advisory_unlock(${OUTBOX_SLEEPERS_LOCK}, k);
    else
      perform pg_notify('ferry_outbox', target_schema);
    end if;
  end
  $f$;
  -- A worker marks itself asleep on its LISTEN connection (the mark is a session lock), then
  -- waits for the writers that found no sleeper to commit. False, and no mark, when one of
  -- them does not commit within gate_ms (a long transaction): the worker polls and retries.
  create or replace function ferry.outbox_sleep(target_schema text, gate_ms integer) returns boolean
  language plpgsql as $f$
  declare
    k integer := hashtext(target_schema);
  begin
    perform pg_advisory_lock_shared(${OUTBOX_SLEEPERS_LOCK}, k);
    begin
      perform set_config('lock_timeout', gate_ms || 'ms', true);
      perform pg_advisory_xact_lock(${OUTBOX_GATE_LOCK}, k);
    exception when lock_not_available then
      perform pg_advisory_unlock_shared(${OUTBOX_SLEEPERS_LOCK}, k);
      return false;
    end;
    return true;
  end
  $f$;
  create or replace function ferry.outbox_awake(target_schema text) returns void
  language plpgsql as $f$
  begin
    perform pg_advisory_unlock_shared(${OUTBOX_SLEEPERS_LOCK}, hashtext(target_schema));
  end
  $f$;
  ${outboxEnqueueSql('ferry.outbox_wake(target_schema)')}
  -- The capture function of one key column (named after it), as step 19 generates it, with
  -- its wake-up through ferry.outbox_wake.
  create or replace function ferry.outbox_define_capture(key_column text) returns void
  language plpgsql as $f$
  begin
    execute format(${captureFunctionTemplate({
      create: 'create or replace function',
      generatedBy: 'ferry.outbox_define_capture',
      wake: 'ferry.outbox_wake(tg_table_schema)',
    })}, 'outbox_capture_' || left(md5(key_column), 16), key_column, key_column);
  end
  $f$;
  ${installCaptureSql('      perform ferry.outbox_define_capture(key_column);')}
  -- Redefine the functions step 19 generated; the key column is read back from the body
  -- (quote_ident's form: bare, or in double quotes with inner quotes doubled).
  for f in
    select substring(p.prosrc from 'to_jsonb\\(new\\.(.*?)\\) #>>') as ident
      from pg_proc p
     where p.pronamespace = 'ferry'::regnamespace and p.proname like 'outbox\\_capture\\_%' and p.pronargs = 0
  loop
    key_column := case when left(f.ident, 1) = '"'
                       then replace(substr(f.ident, 2, length(f.ident) - 2), '""', '"')
                       else f.ident end;
    perform ferry.outbox_define_capture(key_column);
  end loop;
end
$step$`,
};
