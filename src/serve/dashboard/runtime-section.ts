import { redactSecrets } from '../../core/redact.js';
import { outboxFigures } from '../../runtime/outbox/queue.js';
import type { Queryable } from '../../target/target-database.js';
import { iso } from './backfill-section.js';

/**
 * The runtime as the dashboard shows it: each domain's phase and its audited changes (with the
 * gate figures each change recorded), the open gaps with their errors, and the outbox and
 * shadow reads where their tables exist. Tables that later state migrations add are looked up
 * with `to_regclass` first: an older database simply has none of them yet.
 */

export interface DomainView {
  readonly name: string;
  readonly phase: string;
  readonly collections: readonly string[];
  readonly changedAt: string;
}

/** One audited phase change; `figures` are the gate figures the change recorded. */
export interface DomainEventView {
  readonly domain: string;
  readonly from: string | null;
  readonly to: string;
  readonly actor: string;
  readonly reason: string;
  readonly figures: Readonly<Record<string, unknown>>;
  readonly at: string;
}

export interface GapView {
  readonly id: number;
  readonly schema: string;
  readonly collection: string;
  /** The `_id` as people type it (an ObjectId's hex), from the stored canonical Extended JSON. */
  readonly docId: string;
  readonly operation: string;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly attempts: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** A sample of the outbox: events waiting, the age of the oldest, and those retrying or dead. */
export interface OutboxSample {
  readonly depth: number;
  readonly lagSeconds: number | null;
  readonly retrying: number | null;
  readonly dead: number | null;
}

export interface RuntimeSection {
  readonly domains: readonly DomainView[];
  readonly events: readonly DomainEventView[];
  readonly gaps: { readonly open: number; readonly list: readonly GapView[] };
  /** Null when `ferry.outbox` does not exist yet. */
  readonly outbox: OutboxSample | null;
  /** Null when `ferry.shadow_mismatches` does not exist yet. */
  readonly shadow: { readonly total: number; readonly recent: readonly Record<string, unknown>[] } | null;
}

const GAPS_SHOWN = 100;
const EVENTS_SHOWN = 100;

/**
 * Domains, audit, gaps, outbox and shadow mismatches, as far as the state has them.
 *
 * @example
 * declare const db: TargetDatabase;
 * const runtime = await readRuntimeSection(db, { showValues: false });
 * console.log(runtime.gaps.open, runtime.outbox?.depth ?? 'no outbox yet');
 */
export async function readRuntimeSection(
  db: Queryable,
  options: { showValues: boolean },
): Promise<RuntimeSection> {
  const { rows } = await db.query<{
    domains: boolean;
    events: boolean;
    gaps: boolean;
    outbox: boolean;
    shadow: boolean;
  }>(
    `select to_regclass('ferry.domains') is not null as domains,
            to_regclass('ferry.domain_events') is not null as events,
            to_regclass('ferry.gaps') is not null as gaps,
            to_regclass('ferry.outbox') is not null as outbox,
            to_regclass('ferry.shadow_mismatches') is not null as shadow`,
  );
  const has = rows[0]!;
  return {
    domains: has.domains ? await readDomainViews(db) : [],
    events: has.events ? await readEvents(db) : [],
    gaps: has.gaps ? await readGaps(db) : { open: 0, list: [] },
    outbox: has.outbox ? await sampleOutbox(db) : null,
    shadow: has.shadow ? await readShadow(db, options.showValues) : null,
  };
}

async function readDomainViews(db: Queryable): Promise<readonly DomainView[]> {
  const { rows } = await db.query<{ name: string; phase: string; collections: string[]; changed_at: string }>(
    `select name, phase, collections, ${iso('changed_at')} as changed_at from ferry.domains order by name`,
  );
  return rows.map((r) => ({
    name: r.name,
    phase: r.phase,
    collections: r.collections,
    changedAt: r.changed_at,
  }));
}

async function readEvents(db: Queryable): Promise<readonly DomainEventView[]> {
  const { rows } = await db.query<{
    domain: string;
    from_phase: string | null;
    to_phase: string;
    actor: string;
    reason: string;
    figures: string;
    at: string;
  }>(
    `select * from (select id, domain, from_phase, to_phase, actor, reason, figures::text as figures, ${iso('at')} as at
       from ferry.domain_events order by id desc limit ${EVENTS_SHOWN}) e order by id`,
  );
  return rows.map((r) => ({
    domain: r.domain,
    from: r.from_phase,
    to: r.to_phase,
    actor: r.actor,
    reason: redactSecrets(r.reason),
    figures: JSON.parse(r.figures) as Record<string, unknown>,
    at: r.at,
  }));
}

async function readGaps(db: Queryable): Promise<RuntimeSection['gaps']> {
  const { rows: count } = await db.query<{ n: string }>(
    'select count(*) as n from ferry.gaps where closed_at is null',
  );
  const { rows } = await db.query<Record<string, string | null>>(
    `select id, schema, collection, doc_id, operation, error_code, error_message, attempts,
            ${iso('first_seen')} as first_seen, ${iso('last_seen')} as last_seen
       from ferry.gaps where closed_at is null order by id desc limit ${GAPS_SHOWN}`,
  );
  return {
    open: Number(count[0]?.n ?? 0),
    list: rows.map((r) => ({
      id: Number(r.id),
      schema: r.schema!,
      collection: r.collection!,
      docId: displayId(r.doc_id!),
      operation: r.operation!,
      errorCode: r.error_code ?? null,
      errorMessage:
        r.error_message === null || r.error_message === undefined ? null : redactSecrets(r.error_message),
      attempts: Number(r.attempts),
      firstSeen: r.first_seen!,
      lastSeen: r.last_seen!,
    })),
  };
}

/**
 * A stored `_id` (canonical Extended JSON) as people type it: an ObjectId's hex, a string as
 * is, anything else as its Extended JSON.
 *
 * @example
 * displayId('{"$oid":"65a1b2c3d4e5f60718293a4b"}')   // '65a1b2c3d4e5f60718293a4b'
 */
export function displayId(stored: string): string {
  try {
    const value = JSON.parse(stored) as unknown;
    if (typeof value === 'string') return value;
    if (value !== null && typeof value === 'object' && typeof (value as { $oid?: unknown }).$oid === 'string')
      return (value as { $oid: string }).$oid;
  } catch {
    // Not JSON: shown as stored.
  }
  return stored;
}

/**
 * The outbox's depth (events waiting), lag (age of the oldest waiting one), and the retrying
 * and dead ones, over every schema: `outboxFigures`, which reads the queue's partial indexes,
 * summed over the collections (the lag is the oldest collection's).
 */
async function sampleOutbox(db: Queryable): Promise<OutboxSample> {
  const figures = await outboxFigures(db, null);
  const lags = figures.flatMap((f) => (f.lagSeconds === null ? [] : [f.lagSeconds]));
  return {
    depth: figures.reduce((n, f) => n + f.depth, 0),
    lagSeconds: lags.length === 0 ? null : Math.max(...lags),
    retrying: figures.reduce((n, f) => n + f.retrying, 0),
    dead: figures.reduce((n, f) => n + f.dead, 0),
  };
}

/** Columns that hold document values: shown only with showValues. */
const VALUE_COLUMN = /value|source|target|raw|doc(ument)?$|mongo|postgres|pg_/i;

/**
 * The latest shadow mismatches. Every column is shown as stored,
 * except the ones whose names say they hold values, unless `showValues`.
 */
async function readShadow(
  db: Queryable,
  showValues: boolean,
): Promise<NonNullable<RuntimeSection['shadow']>> {
  const { rows: count } = await db.query<{ n: string }>('select count(*) as n from ferry.shadow_mismatches');
  const { rows } = await db.query<{ row: string }>(
    'select to_jsonb(s)::text as row from ferry.shadow_mismatches s order by 1 desc limit 50',
  );
  return {
    total: Number(count[0]?.n ?? 0),
    recent: rows.map((r) => {
      const row = JSON.parse(r.row) as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(row)
          .filter(([key]) => showValues || key === 'id' || !VALUE_COLUMN.test(key))
          .map(([key, value]) => [key, typeof value === 'string' ? redactSecrets(value) : value]),
      );
    }),
  };
}
