import type pg from 'pg';
import { FerryError } from '../core/errors.js';
import { captureFunctionTemplate, installCaptureSql, outboxEnqueueSql } from './capture-function.js';
import { CAPTURE_INSTALL_LOCK_STEP } from './capture-install-lock-state.js';
import { LATENCY_BUCKETS_STEP } from './latency-buckets-state.js';
import { OUTBOX_WAKE_STEP } from './outbox-wake-state.js';
import type { Queryable, Transactional } from './target-database.js';

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
  // Backfill state (src/load). One statement per step: PGlite's parameterless query runs one.
  {
    version: 2,
    name: 'runs',
    sql: `create table ferry.runs (
  id bigint generated always as identity primary key,
  command text not null,
  options jsonb not null default '{}',
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed', 'aborted')),
  started_at timestamptz not null default now(),
  finished_at timestamptz
)`,
  },
  {
    version: 3,
    name: 'checkpoints',
    sql: `create table ferry.checkpoints (
  schema text not null,
  collection text not null,
  position jsonb,
  read bigint not null default 0,
  migrated bigint not null default 0,
  rejected bigint not null default 0,
  complete boolean not null default false,
  run_id bigint references ferry.runs (id),
  updated_at timestamptz not null default now(),
  primary key (schema, collection),
  check (migrated + rejected = read)
)`,
  },
  {
    version: 4,
    name: 'rejects',
    sql: `create table ferry.rejects (
  id bigint generated always as identity primary key,
  run_id bigint references ferry.runs (id),
  schema text not null,
  collection text not null,
  doc_id text,
  raw text not null,
  raw_encoding text not null check (raw_encoding in ('ejson', 'text', 'base64')),
  stage text not null check (stage in ('read', 'transform', 'load')),
  code text not null,
  reason text not null,
  path text,
  created_at timestamptz not null default now(),
  resolved_at timestamptz
)`,
  },
  {
    version: 5,
    name: 'open rejects index',
    sql: 'create index rejects_open on ferry.rejects (schema, collection, id) where resolved_at is null',
  },
  // Verification runs (src/verify): per-collection results land as each collection finishes,
  // so `ferry verify --resume` skips them and `ferry status` shows the last verdict.
  {
    version: 6,
    name: 'verify runs',
    sql: `create table ferry.verify_runs (
  id bigint generated always as identity primary key,
  schema text not null,
  level text not null check (level in ('count', 'deep', 'sample')),
  options jsonb not null default '{}',
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  results jsonb not null default '{}',
  summary jsonb,
  ok boolean
)`,
  },
  // Where in the source a reject came from (file, line, byte offset), as inspect reports it.
  // `if not exists`: the step must also pass on a database where someone added them by hand.
  {
    version: 7,
    name: 'reject locations',
    sql: `alter table ferry.rejects
  add column if not exists source_file text,
  add column if not exists source_line bigint,
  add column if not exists source_offset bigint`,
  },
  // The identity function of src/mapping/identity.ts in SQL, both ways, so queries can turn
  // the uuid columns back into ObjectIds and look rows up by an ObjectId from the application.
  // `create or replace`: the steps stay safe to run again. The messages never echo the value,
  // and hold no ': ' (Ferry cuts data-exception messages there, where PostgreSQL quotes values).
  {
    version: 8,
    name: 'oid_to_uuid',
    sql: `create or replace function ferry.oid_to_uuid(oid text) returns uuid
language plpgsql immutable strict parallel safe as $$
declare
  h text := lower(oid);
  ms text;
begin
  if h !~ '^[0-9a-f]{24}$' then
    raise exception 'ferry.oid_to_uuid expects an ObjectId (24 hex digits)'
      using errcode = '22023';
  end if;
  -- ObjectId seconds x 1000 = the UUIDv7 milliseconds (48 bits), then the 7fe/a marker
  -- around the ObjectId's remaining 8 bytes.
  ms := lpad(to_hex(('x' || lpad(substr(h, 1, 8), 16, '0'))::bit(64)::bigint * 1000), 12, '0');
  return (substr(ms, 1, 8) || '-' || substr(ms, 9, 4) || '-7fe' || substr(h, 9, 1) || '-a'
    || substr(h, 10, 3) || '-' || substr(h, 13, 12))::uuid;
end
$$`,
  },
  {
    version: 9,
    name: 'uuid_to_oid',
    sql: `create or replace function ferry.uuid_to_oid(id uuid) returns text
language plpgsql immutable strict parallel safe as $$
declare
  h text := replace(id::text, '-', '');
  ms bigint;
begin
  ms := ('x' || lpad(substr(h, 1, 12), 16, '0'))::bit(64)::bigint;
  if substr(h, 13, 3) <> '7fe' or substr(h, 17, 1) <> 'a' or ms % 1000 <> 0 or ms / 1000 > 4294967295 then
    raise exception 'ferry.uuid_to_oid expects a uuid that Ferry made from an ObjectId'
      using errcode = '22023';
  end if;
  return lpad(to_hex(ms / 1000), 8, '0') || substr(h, 16, 1) || substr(h, 18, 15);
end
$$`,
  },
  // `ferry sync` runs (src/runtime/sync): per collection the counts and the drift scan's last
  // position, committed after every repaired batch, so `ferry sync --resume` continues a run.
  {
    version: 10,
    name: 'sync runs',
    sql: `create table ferry.sync_runs (
  id bigint generated always as identity primary key,
  schema text not null,
  options jsonb not null default '{}',
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  progress jsonb not null default '{}',
  ok boolean
)`,
  },
  // The runtime (src/runtime): domains and their audited phases, and the gaps of the mirror.
  {
    version: 11,
    name: 'domains',
    sql: `create table ferry.domains (
  name text primary key,
  phase text not null default 'mongo' check (phase in ('mongo', 'dual_write', 'shadow_read', 'pg_read')),
  collections text[] not null default '{}',
  changed_at timestamptz not null default now()
)`,
  },
  {
    version: 12,
    name: 'domain events',
    sql: `create table ferry.domain_events (
  id bigint generated always as identity primary key,
  domain text not null references ferry.domains (name),
  from_phase text,
  to_phase text not null,
  actor text not null,
  reason text not null,
  figures jsonb not null default '{}',
  at timestamptz not null default now()
)`,
  },
  {
    version: 13,
    name: 'gaps',
    sql: `create table ferry.gaps (
  id bigint generated always as identity primary key,
  schema text not null,
  collection text not null,
  doc_id text not null,
  operation text not null,
  error_code text,
  error_message text,
  attempts integer not null default 1,
  first_seen timestamptz not null default now(),
  last_seen timestamptz not null default now(),
  closed_at timestamptz
)`,
  },
  {
    version: 14,
    name: 'one open gap per entity',
    sql: 'create unique index gaps_open on ferry.gaps (schema, collection, doc_id) where closed_at is null',
  },
  // The transactional outbox (src/runtime/outbox): PostgreSQL is the primary in pg_primary,
  // and every change to a mapped table records its entity here, in the writing transaction,
  // through the capture trigger (`ferry schema apply` installs it on every mapped table).
  // One step (a DO block: PGlite runs one statement per step) so the phases, the table and
  // the functions the triggers call arrive together.
  //
  // Rows are events, not entities: the trigger only inserts (never updates), so writers of
  // one entity never wait on each other here, and a worker holding an event never blocks a
  // writer. The worker coalesces an entity's events when it claims them, and delivers the
  // entity's state as it is when delivered (DESIGN.md runtime rule 1), under a per-entity lock.
  // `doc_key` is the root row's key as text (`to_jsonb(key) #>> '{}'`: a uuid, a number, a text).
  {
    version: 15,
    name: 'outbox',
    sql: `do $step$
begin
  alter table ferry.domains drop constraint if exists domains_phase_check;
  alter table ferry.domains add constraint domains_phase_check
    check (phase in ('mongo', 'dual_write', 'shadow_read', 'pg_read', 'pg_primary', 'pg_only'));
  create table ferry.outbox (
    id bigint generated always as identity primary key,
    schema text not null,
    collection text not null,
    doc_key text not null,
    enqueued_at timestamptz not null default clock_timestamp(),
    status text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    lease_owner text,
    lease_until timestamptz,
    last_error text,
    delivered_at timestamptz
  );
  create index outbox_ready on ferry.outbox (schema, next_attempt_at, id) where status = 'pending';
  create index outbox_entity on ferry.outbox (schema, collection, doc_key) where status = 'pending';
  create index outbox_dead on ferry.outbox (schema, collection) where status = 'dead';
  create index outbox_delivered on ferry.outbox (delivered_at) where status = 'delivered';
  -- Whether a collection's changes are fed to MongoDB now: its domain is in pg_primary. A
  -- handful of rows, read once per writing statement; a phase change commits before the
  -- writes that follow it, so no write in pg_primary escapes capture.
  create or replace function ferry.outbox_feeds(collection text) returns boolean
  language sql stable as $f$
    select exists (select 1 from ferry.domains where phase = 'pg_primary' and collections @> array[collection])
  $f$;
  -- Record entities of a collection (root keys as text) when its domain is fed; wake workers.
  ${outboxEnqueueSql("pg_notify('ferry_outbox', target_schema)")}
  -- The capture trigger: statement-level, over the transition table of the rows written, so
  -- a statement that touches many rows of one entity records it once. tg_argv: the
  -- collection, then the column that holds the root key (the key itself in the root table,
  -- the first parent column in a child table). An UPDATE records the old and the new key.
  create or replace function ferry.outbox_capture() returns trigger
  language plpgsql as $f$
  begin
    if not ferry.outbox_feeds(tg_argv[0]) then return null; end if;
    if tg_op = 'INSERT' then
      perform ferry.outbox_enqueue(tg_table_schema, tg_argv[0],
        array(select to_jsonb(n) ->> tg_argv[1] from new_rows n));
    elsif tg_op = 'UPDATE' then
      perform ferry.outbox_enqueue(tg_table_schema, tg_argv[0],
        array(select to_jsonb(n) ->> tg_argv[1] from new_rows n
              union select to_jsonb(o) ->> tg_argv[1] from old_rows o));
    else
      perform ferry.outbox_enqueue(tg_table_schema, tg_argv[0],
        array(select to_jsonb(o) ->> tg_argv[1] from old_rows o));
    end if;
    return null;
  end
  $f$;
end
$step$`,
  },
  {
    version: 16,
    name: 'ttl runs',
    sql: `create table ferry.ttl_runs (
  id bigint generated always as identity primary key,
  schema text not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  cutoff timestamptz not null,
  removed bigint not null default 0,
  batches integer not null default 0,
  rules jsonb not null default '[]',
  ok boolean,
  error text
)`,
  },
  // Shadow reads (src/runtime/shadow): per domain, collection and minute, the outcome counts
  // and the latency histograms of both sides (bucket bounds in src/runtime/latency-histogram.ts),
  // which the cutover gates read over their window; and the mismatches themselves, capped per
  // domain, with both values cleaned and the differing field paths.
  {
    version: 17,
    name: 'shadow reads',
    sql: `do $step$
begin
  create table ferry.shadow_reads (
    domain text not null,
    collection text not null,
    minute timestamptz not null,
    matched bigint not null default 0,
    mismatched bigint not null default 0,
    timed_out bigint not null default 0,
    failed bigint not null default 0,
    primary_ms bigint[] not null default '{}',
    candidate_ms bigint[] not null default '{}',
    primary key (domain, collection, minute)
  );
  create table ferry.shadow_mismatches (
    id bigint generated always as identity primary key,
    domain text not null,
    collection text not null,
    doc_id text,
    paths text[] not null,
    primary_value jsonb,
    candidate_value jsonb,
    at timestamptz not null default now()
  );
  create index shadow_mismatches_recent on ferry.shadow_mismatches (domain, at);
end
$step$`,
  },
  // Rollback drills (src/runtime/cutover): `ferry rollback --drill` steps a domain back one
  // phase and forward again under traffic, verifies, and records the outcome here; the cutover
  // gate "a rollback drill has passed" reads the latest one of the domain and phase.
  {
    version: 18,
    name: 'rollback drills',
    sql: `do $step$
begin
  create table ferry.rollback_drills (
    id bigint generated always as identity primary key,
    domain text not null,
    phase text not null,
    back_to text not null,
    ok boolean not null,
    failure text,
    figures jsonb not null default '{}',
    actor text not null,
    started_at timestamptz not null,
    finished_at timestamptz not null default now()
  );
  create index rollback_drills_recent on ferry.rollback_drills (domain, phase, finished_at);
end
$step$`,
  },
  // Cheaper capture (issue 14's target: at most +30% on a single-row write transaction). The
  // statement-level triggers of step 15 built two transition tables, turned every row into
  // jsonb and ran three queries (two phase checks, the insert) per statement. Now each
  // capture trigger is row-level and calls a small function generated per key column name
  // (`ferry.outbox_install_capture` makes it on first use), which reads the key column itself
  // and records the entity with one insert whose WHERE is the phase check. Coalescing stays
  // cheap without a transition table: a transaction remembers the last entity it recorded
  // (a transaction-local setting, which a rolled-back savepoint also rolls back), so the rows
  // of one entity written one after the other record it once; and it notifies once, with its
  // first event. Existing step-15 triggers are replaced here, so databases upgrade in place.
  {
    version: 19,
    name: 'row-level outbox capture',
    sql: `do $step$
declare
  t record;
begin
  ${installCaptureSql(
    `      execute format(${captureFunctionTemplate({
      create: 'create function',
      generatedBy: 'ferry.outbox_install_capture',
      wake: "pg_notify('ferry_outbox', tg_table_schema)",
    })}, fn, key_column, key_column);`,
  )}
  for t in
    select tg.tgrelid::regclass as target, tg.tgname::text as name,
           case when tg.tgtype & 4 <> 0 then 'insert' when tg.tgtype & 8 <> 0 then 'delete' else 'update' end as event,
           split_part(encode(tg.tgargs, 'escape'), '\\000', 1) as collection,
           split_part(encode(tg.tgargs, 'escape'), '\\000', 2) as key_column
      from pg_trigger tg
     where tg.tgfoid = 'ferry.outbox_capture()'::regprocedure
  loop
    perform ferry.outbox_install_capture(t.target, t.name, t.event, t.collection, t.key_column);
  end loop;
end
$step$`,
  },
  // Four latency buckets per doubling (src/target/latency-buckets-state.ts).
  LATENCY_BUCKETS_STEP,
  // The capture notifies only while a worker sleeps (src/target/outbox-wake-state.ts).
  OUTBOX_WAKE_STEP,
  // Capture functions are created one session at a time (src/target/capture-install-lock-state.ts).
  CAPTURE_INSTALL_LOCK_STEP,
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
 * can still fail with a unique violation on the catalog.) Takes a `TargetDatabase` (both
 * PostgreSQL and PGlite) or, for older callers, a `pg.Pool`.
 *
 * @example
 * declare const url: string;
 * const db = await openTarget(url);
 * await ensureFerryState(db);   // returns the versions it applied, [] when up to date
 */
export async function ensureFerryState(
  db: pg.Pool | Transactional,
  migrations: readonly StateMigration[] = STATE_MIGRATIONS,
): Promise<readonly number[]> {
  try {
    if ('transaction' in db) return await db.transaction((tx) => applySteps(tx, migrations));
    const client = await db.connect();
    try {
      await client.query('begin');
      const applied = await applySteps(client, migrations);
      await client.query('commit');
      return applied;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  } catch (cause) {
    throw new FerryError(`cannot set up Ferry's state schema "ferry": ${(cause as Error).message}`, {
      code: 'STATE_SETUP_FAILED',
      category: 'environment',
      cause,
      hint: 'the target user needs CREATE on the database; check permissions',
    });
  }
}

/** The body of the setup transaction; `tx` is inside BEGIN. */
async function applySteps(tx: Queryable, migrations: readonly StateMigration[]): Promise<readonly number[]> {
  await tx.query('select pg_advisory_xact_lock($1, $2)', [LOCK_KEY[0], LOCK_KEY[1]]);
  await tx.query('create schema if not exists ferry');
  await tx.query(
    `create table if not exists ferry.state_migrations (
       version integer primary key,
       name text not null,
       applied_at timestamptz not null default now()
     )`,
  );
  const { rows } = await tx.query<{ version: number }>('select version from ferry.state_migrations');
  const done = new Set(rows.map((r) => r.version));
  const applied: number[] = [];
  for (const step of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(step.version)) continue;
    await tx.query(step.sql);
    await tx.query('insert into ferry.state_migrations (version, name) values ($1, $2)', [
      step.version,
      step.name,
    ]);
    applied.push(step.version);
  }
  return applied;
}
