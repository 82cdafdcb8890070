import os from 'node:os';
import type pg from 'pg';
import { FerryError } from '../core/errors.js';
import type { Queryable, TargetDatabase } from '../target/target-database.js';
import { targetOf } from './stores.js';

/**
 * Domains and their phases (DESIGN.md "The runtime"): a domain is a named set of collections
 * that cuts over together; its phase, kept in `ferry.domains`, says which store is primary and
 * which is kept complete. Every phase change is one transaction that updates the phase, writes
 * the audit row to `ferry.domain_events` (from, to, who, why, figures) and notifies
 * `PHASE_CHANNEL`, so every app instance follows within a second.
 */

/**
 * The phases, in cutover order (DESIGN.md "The runtime"). In `mongo` … `pg_read` MongoDB is
 * the primary and the mirror keeps PostgreSQL complete; in `pg_primary` PostgreSQL is the
 * primary and the outbox (src/runtime/outbox) keeps MongoDB complete; in `pg_only` nothing
 * is fed. A new phase is added here, to the CHECK of `ferry.domains.phase` (a state step)
 * and to `mirrorsWrites` and `feedsMongo`, whose exhaustive `switch`es fail to compile until
 * they handle it.
 *
 * @example
 * PHASES.indexOf('shadow_read') > PHASES.indexOf('dual_write')   // true: the phases in order
 */
export const PHASES = ['mongo', 'dual_write', 'shadow_read', 'pg_read', 'pg_primary', 'pg_only'] as const;

/**
 * A phase of a domain: one of `PHASES`, in order.
 *
 * @example
 * const next: Phase = 'dual_write';
 * isPhase('pg_read')   // true
 */
export type Phase = (typeof PHASES)[number];

/**
 * The channel phase changes are announced on; the payload is the domain's name.
 *
 * @example
 * import type pg from 'pg';
 * declare const client: pg.Client;
 * await client.query(`listen ${PHASE_CHANNEL}`);
 * client.on('notification', (n) => {
 *   if (n.channel === PHASE_CHANNEL) console.log('phase changed in domain', n.payload);
 * });
 */
export const PHASE_CHANNEL = 'ferry_phases';

/**
 * Whether writes to MongoDB are mirrored to PostgreSQL in this phase.
 *
 * @example
 * mirrorsWrites('mongo')        // false: nothing is mirrored yet
 * mirrorsWrites('dual_write')   // true
 */
export function mirrorsWrites(phase: Phase): boolean {
  switch (phase) {
    case 'mongo':
      return false;
    case 'dual_write':
    case 'shadow_read':
    case 'pg_read':
      return true;
    // PostgreSQL is the primary: the app writes there, and MongoDB is fed by the outbox.
    case 'pg_primary':
    case 'pg_only':
      return false;
  }
}

/**
 * Whether PostgreSQL's changes are captured into `ferry.outbox` and fed to MongoDB in this
 * phase. The capture triggers apply the same rule in SQL (`ferry.outbox_feeds`).
 *
 * @example
 * feedsMongo('pg_primary')   // true: MongoDB stays complete, as the rollback path
 * feedsMongo('pg_only')      // false: MongoDB is retired for this domain
 * feedsMongo('dual_write')   // false: PostgreSQL is the secondary, written by the mirror
 */
export function feedsMongo(phase: Phase): boolean {
  switch (phase) {
    case 'pg_primary':
      return true;
    case 'mongo':
    case 'dual_write':
    case 'shadow_read':
    case 'pg_read':
    case 'pg_only':
      return false;
  }
}

/** Whether a text is one of the phases. */
export function isPhase(text: string): text is Phase {
  return (PHASES as readonly string[]).includes(text);
}

/**
 * Domains as the config declares them: `{ [name]: { collections } }`.
 *
 * @example
 * const domains: DomainDefinitions = { money: { collections: ['payments', 'ledger'] }, catalog: { collections: ['products'] } };
 */
export type DomainDefinitions = Readonly<Record<string, { readonly collections: readonly string[] }>>;

/**
 * A row of `ferry.domains`.
 *
 * @example
 * declare const db: TargetDatabase;
 * const states: readonly DomainState[] = await readDomains(db);
 * states.find((d) => d.name === 'money')?.phase   // 'dual_write'
 */
export interface DomainState {
  readonly name: string;
  readonly phase: Phase;
  readonly collections: readonly string[];
  /** When the phase last changed (ISO 8601, UTC). */
  readonly changedAt: string;
}

/**
 * Make `ferry.domains` know every configured domain: a new one starts in phase `mongo`; an
 * existing one keeps its phase and takes the configured collections. Idempotent.
 *
 * @example
 * declare const db: TargetDatabase;
 * await registerDomains(db, { money: { collections: ['payments', 'ledger'] } });
 */
export async function registerDomains(db: Queryable, domains: DomainDefinitions): Promise<void> {
  const names = Object.keys(domains);
  if (names.length === 0) return;
  await db.query(
    `insert into ferry.domains (name, collections)
     select d.name, array(select jsonb_array_elements_text(d.collections))
       from jsonb_to_recordset($1::jsonb) as d(name text, collections jsonb)
     on conflict (name) do update set collections = excluded.collections
       where ferry.domains.collections is distinct from excluded.collections`,
    [JSON.stringify(names.map((name) => ({ name, collections: domains[name]!.collections })))],
  );
}

/**
 * Every domain in `ferry.domains`, by name.
 *
 * @example
 * declare const db: TargetDatabase;
 * for (const d of await readDomains(db)) console.log(d.name, d.phase);
 */
export async function readDomains(db: Queryable): Promise<readonly DomainState[]> {
  const { rows } = await db.query<{ name: string; phase: string; collections: string[]; changed_at: string }>(
    `select name, phase, collections,
            to_char(changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as changed_at
       from ferry.domains order by name`,
  );
  return rows.map((r) => ({
    name: r.name,
    phase: isPhase(r.phase) ? r.phase : 'mongo',
    collections: r.collections,
    changedAt: r.changed_at,
  }));
}

/**
 * Who changed a phase and why, plus the figures that justified it (gate results, counts).
 *
 * @example
 * declare const db: TargetDatabase;
 * const change: PhaseChange = { reason: 'shadow reads matched for 24 h', figures: { mismatches: 0 } };
 * await setPhase(db, 'money', 'pg_read', change);
 */
export interface PhaseChange {
  readonly reason: string;
  /** Default: `user@host` of this process. */
  readonly actor?: string;
  readonly figures?: Readonly<Record<string, unknown>>;
}

/**
 * What `setPhase` did.
 *
 * @example
 * declare const db: TargetDatabase;
 * const { from, to } = await setPhase(db, 'money', 'mongo', { reason: 'rollback: gaps piling up' });
 * console.log(`money: ${from} → ${to}`);
 */
export interface PhaseTransition {
  readonly domain: string;
  readonly from: Phase;
  readonly to: Phase;
  /** The audit row in `ferry.domain_events`. */
  readonly eventId: number;
}

/**
 * Move a domain to `phase`, audited: in one transaction the domain row is locked, the event
 * (from, to, who, why, figures, when) is written to `ferry.domain_events`, the phase is set,
 * and `PHASE_CHANNEL` is notified, which every runtime follows within a second. Setting the
 * phase a domain already has is recorded too (a confirmed decision is still a decision).
 * Refuses an unknown domain or phase. `ferry cutover` builds its gates on this.
 *
 * @example
 * import type pg from 'pg';
 * declare const pool: pg.Pool;
 * await setPhase(pool, 'money', 'dual_write', { reason: 'backfill verified clean', figures: { mismatches: 0 } });
 */
export async function setPhase(
  db: TargetDatabase | pg.Pool,
  domain: string,
  phase: Phase,
  change: PhaseChange,
): Promise<PhaseTransition> {
  if (!isPhase(phase))
    throw new FerryError(`"${String(phase)}" is not a phase`, {
      code: 'RUNTIME_UNKNOWN_PHASE',
      category: 'usage',
      hint: `the phases are: ${PHASES.join(', ')}`,
    });
  if (change.reason.trim() === '')
    throw new FerryError('a phase change needs a reason', {
      code: 'RUNTIME_PHASE_REASON_MISSING',
      category: 'usage',
      hint: 'say why, e.g. "verify clean for 24 h"; it is kept in ferry.domain_events',
    });
  const target = 'transaction' in db ? db : targetOf(db);
  return target.transaction((tx) => recordPhaseChange(tx, domain, phase, change));
}

/**
 * The body of `setPhase`, inside a transaction the caller holds: lock the domain row, write
 * the audit event, set the phase, notify. The primary flip (src/runtime/cutover) calls it
 * inside the transaction that holds the domain's write lock, so the change commits together
 * with the pause that makes it coherent.
 *
 * @example
 * declare const db: TargetDatabase;
 * await db.transaction((tx) => recordPhaseChange(tx, 'money', 'pg_read', { reason: 'shadow reads clean' }));
 */
export async function recordPhaseChange(
  tx: Queryable,
  domain: string,
  phase: Phase,
  change: PhaseChange,
): Promise<PhaseTransition> {
  const { rows } = await tx.query<{ phase: Phase }>(
    'select phase from ferry.domains where name = $1 for update',
    [domain],
  );
  const from = rows[0]?.phase;
  if (from === undefined) throw unknownDomain(domain);
  const event = await tx.query<{ id: string }>(
    `insert into ferry.domain_events (domain, from_phase, to_phase, actor, reason, figures)
     values ($1, $2, $3, $4, $5, $6::jsonb) returning id::text as id`,
    [
      domain,
      from,
      phase,
      change.actor ?? defaultActor(),
      change.reason,
      JSON.stringify(change.figures ?? {}),
    ],
  );
  await tx.query('update ferry.domains set phase = $2, changed_at = now() where name = $1', [domain, phase]);
  await tx.query('select pg_notify($1, $2)', [PHASE_CHANNEL, domain]);
  return { domain, from, to: phase, eventId: Number(event.rows[0]!.id) };
}

/**
 * The error for a domain `ferry.domains` does not know.
 *
 * @example
 * throw unknownDomain('money');
 */
export function unknownDomain(domain: string): FerryError {
  return new FerryError(`there is no domain "${domain}"`, {
    code: 'RUNTIME_UNKNOWN_DOMAIN',
    category: 'usage',
    hint: 'declare it under `domains` in ferry.config.ts; the runtime registers it when it starts',
  });
}

/**
 * One audited phase change.
 *
 * @example
 * declare const db: TargetDatabase;
 * for (const e of await domainEvents(db, 'money')) console.log(e.at, e.from ?? '(new)', '→', e.to, e.reason);
 */
export interface DomainEvent {
  readonly domain: string;
  readonly from: Phase | null;
  readonly to: Phase;
  readonly actor: string;
  readonly reason: string;
  readonly figures: Readonly<Record<string, unknown>>;
  readonly at: string;
}

/**
 * The audit trail of phase changes, oldest first (of one domain, or all).
 *
 * @example
 * declare const db: TargetDatabase;
 * const [last] = (await domainEvents(db, 'money')).slice(-1);
 * if (last) console.log(last.from, '→', last.to, last.actor, last.reason);
 */
export async function domainEvents(db: Queryable, domain?: string): Promise<readonly DomainEvent[]> {
  const { rows } = await db.query<{
    domain: string;
    from_phase: Phase | null;
    to_phase: Phase;
    actor: string;
    reason: string;
    figures: string;
    at: string;
  }>(
    `select domain, from_phase, to_phase, actor, reason, figures::text as figures,
            to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
       from ferry.domain_events ${domain === undefined ? '' : 'where domain = $1'} order by id`,
    domain === undefined ? [] : [domain],
  );
  return rows.map((r) => ({
    domain: r.domain,
    from: r.from_phase,
    to: r.to_phase,
    actor: r.actor,
    reason: r.reason,
    figures: JSON.parse(r.figures) as Record<string, unknown>,
    at: r.at,
  }));
}

function defaultActor(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still says where the change came from.
  }
  return `${user}@${os.hostname()}`;
}
