import type { Queryable } from '../target/target-database.js';
import type { DomainDefinitions, Phase } from './domains.js';
import { readDomains } from './domains.js';
import { type GapSummary, gapSummary } from './gaps.js';
import { type OutboxFigures, outboxFigures } from './outbox/queue.js';
import { lastSyncRun } from './sync/sync-runs.js';
import { lastTtlRun } from './ttl/ttl-runs.js';

/** One domain as `ferry status` shows it. */
export interface DomainStatus {
  readonly name: string;
  readonly phase: Phase;
  readonly collections: readonly string[];
  /** False for a domain in the config that no runtime has registered yet (it is in `mongo`). */
  readonly registered: boolean;
  /** When the phase last changed; null when not registered. */
  readonly changedAt: string | null;
  readonly openGaps: number;
  /** Age in seconds of the oldest open gap, null when none is open. */
  readonly oldestGapAgeSeconds: number | null;
  /** The outbox of the domain's collections (it fills in phase `pg_primary`). */
  readonly outbox: DomainOutboxStatus;
}

/**
 * A domain's outbox in `ferry status`: its collections' figures summed (see `OutboxFigures`).
 *
 * @example
 * declare const status: RuntimeStatus;
 * for (const d of status.domains) console.log(d.name, d.outbox.depth, d.outbox.lagSeconds, d.outbox.dead);
 */
export interface DomainOutboxStatus {
  /** Pending events. */
  readonly depth: number;
  /** Age in seconds of the oldest pending event (the lag), null when none is pending. */
  readonly lagSeconds: number | null;
  /** Events delivered per second over the last minute. */
  readonly deliveredPerSecond: number;
  readonly dead: number;
  /** Pending events that failed at least once and wait for their next attempt. */
  readonly retrying: number;
}

/** The runtime part of `ferry status`. */
export interface RuntimeStatus {
  readonly domains: readonly DomainStatus[];
  /** Open gaps over all collections of the schema, in a domain or not. */
  readonly openGaps: number;
  readonly oldestGapAgeSeconds: number | null;
  /** The last finished `ferry sync` of the schema, null when there was none. */
  readonly lastSync: {
    readonly id: number;
    readonly finishedAt: string | null;
    readonly ok: boolean | null;
  } | null;
  /** The last `ferry ttl run` of the schema (finished or under way), null when TTL never ran. */
  readonly lastTtl: {
    readonly id: number;
    readonly startedAt: string;
    readonly finishedAt: string | null;
    readonly ok: boolean | null;
    readonly removed: number;
    readonly batches: number;
    /** Rows removed per rule. */
    readonly rules: readonly {
      readonly collection: string;
      readonly source: string;
      readonly removed: number;
    }[];
  } | null;
}

/**
 * Each domain's phase, its open gaps and the oldest one's age, its outbox (depth, lag,
 * delivered/s, dead, retrying), the last sync and the last TTL run, from the
 * state in schema `ferry` (nothing is created; a database without it reports no domains).
 * Domains the config declares but no runtime has registered yet show as `mongo`.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const config: ResolvedConfig;
 * const status = await readRuntimeStatus(db, 'public', config.domains ?? {});
 * for (const d of status.domains) console.log(d.name, d.phase, d.openGaps);
 */
export async function readRuntimeStatus(
  db: Queryable,
  schema: string,
  configured: DomainDefinitions,
  /** The schema's outbox figures and open gaps, when the caller has read them already. */
  alreadyRead: { outbox?: readonly OutboxFigures[]; gaps?: readonly GapSummary[] } = {},
): Promise<RuntimeStatus> {
  const { rows } = await db.query<{ domains: boolean; gaps: boolean }>(
    `select to_regclass('ferry.domains') is not null as domains, to_regclass('ferry.gaps') is not null as gaps`,
  );
  const has = rows[0]!;
  const stored = has.domains ? await readDomains(db) : [];
  const gaps = alreadyRead.gaps ?? (has.gaps ? await gapSummary(db, schema) : []);
  const outbox = alreadyRead.outbox ?? (await outboxFigures(db, schema));
  const byCollection = new Map(gaps.map((g) => [g.collection, g]));
  const names = [...new Set([...stored.map((d) => d.name), ...Object.keys(configured)])].sort();
  const domains = names.map((name): DomainStatus => {
    const row = stored.find((d) => d.name === name);
    const collections = configured[name]?.collections ?? row?.collections ?? [];
    const own = collections.flatMap((c) => byCollection.get(c) ?? []);
    return {
      name,
      phase: row?.phase ?? 'mongo',
      collections,
      registered: row !== undefined,
      changedAt: row?.changedAt ?? null,
      openGaps: own.reduce((n, g) => n + g.open, 0),
      oldestGapAgeSeconds: oldest(own.map((g) => g.oldestAgeSeconds)),
      outbox: domainOutbox(outbox.filter((f) => collections.includes(f.collection))),
    };
  });
  const last = await lastSyncRun(db, schema);
  const ttl = await lastTtlRun(db, schema);
  return {
    domains,
    openGaps: gaps.reduce((n, g) => n + g.open, 0),
    oldestGapAgeSeconds: oldest(gaps.map((g) => g.oldestAgeSeconds)),
    lastSync: last === undefined ? null : { id: last.id, finishedAt: last.finishedAt, ok: last.ok },
    lastTtl:
      ttl === undefined
        ? null
        : {
            id: ttl.id,
            startedAt: ttl.startedAt,
            finishedAt: ttl.finishedAt,
            ok: ttl.ok,
            removed: ttl.removed,
            batches: ttl.batches,
            rules: ttl.rules.map(({ collection, source, removed }) => ({ collection, source, removed })),
          },
  };
}

function oldest(ages: readonly (number | null)[]): number | null {
  const known = ages.filter((a): a is number => a !== null);
  return known.length === 0 ? null : Math.max(...known);
}

function domainOutbox(figures: readonly OutboxFigures[]): DomainOutboxStatus {
  const sum = (pick: (f: OutboxFigures) => number) => figures.reduce((n, f) => n + pick(f), 0);
  return {
    depth: sum((f) => f.depth),
    lagSeconds: oldest(figures.map((f) => f.lagSeconds)),
    deliveredPerSecond: Math.round(sum((f) => f.deliveredPerSecond) * 10) / 10,
    dead: sum((f) => f.dead),
    retrying: sum((f) => f.retrying),
  };
}
