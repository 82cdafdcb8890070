import type pg from 'pg';
import { FerryError } from '../../core/errors.js';
import { feedsMongo, PHASES, type Phase, readDomains, setPhase, unknownDomain } from '../domains.js';
import type { RuntimeStores } from '../entity-copy.js';
import { targetOf } from '../stores.js';
import type { CutoverLimits } from './cutover-config.js';
import { type FlipReport, flipPhase } from './flip-phase.js';
import { evaluateGates, type GateName, type GateResult, nextPhase } from './gates.js';
import { mongoIsPrimary } from './primary-lock.js';

/**
 * `ferry cutover` and `ferry rollback` as a library: gates, then a phase change that is
 * coherent when the primary moves (flip-phase.ts) and audited either way.
 */

/**
 * What the cutover commands work on: the target's pool and schema, the config's limits and,
 * for the steps that move the primary or stop feeding MongoDB, both stores.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const context: CutoverContext = { pool: stores.pg, schema: 'public', limits: cutoverLimits(undefined), stores };
 */
export interface CutoverContext {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly limits: CutoverLimits;
  /** Needed when a step drains gaps or the outbox (`needsBothStores`). */
  readonly stores?: RuntimeStores;
}

/**
 * Who asks and why; `force` passes failing gates, and then needs a reason.
 *
 * @example
 * const request: ChangeRequest = { reason: 'p95 measured on the replica instead', force: true };
 */
export interface ChangeRequest {
  readonly reason?: string;
  readonly force?: boolean;
  readonly actor?: string;
  /** Evaluate the gates only: change nothing (`changed` is false). */
  readonly dryRun?: boolean;
}

/**
 * What a cutover step found and did. `changed` is false when a gate failed (and was not
 * forced): nothing was changed then.
 *
 * @example
 * declare const context: CutoverContext;
 * const report: CutoverReport = await cutover(context, 'money', 'dual_write');
 * if (!report.changed) console.log(report.gates.filter((g) => !g.ok).map((g) => g.name));
 */
export interface CutoverReport {
  readonly domain: string;
  readonly from: Phase;
  readonly to: Phase;
  readonly gates: readonly GateResult[];
  /** Failing gates that `force` overrode. */
  readonly forced: readonly GateName[];
  readonly changed: boolean;
  /** The flip, when the step moved the primary or stopped feeding MongoDB. */
  readonly flip?: FlipReport;
}

/**
 * Whether a change between two phases must run as a flip with both stores: the primary moves,
 * or MongoDB stops (or starts) being fed by the outbox.
 *
 * @example
 * needsBothStores('pg_read', 'pg_primary')    // true
 * needsBothStores('dual_write', 'shadow_read') // false
 */
export function needsBothStores(from: Phase, to: Phase): boolean {
  return mongoIsPrimary(from) !== mongoIsPrimary(to) || feedsMongo(from) !== feedsMongo(to);
}

/**
 * Move `domain` forward one phase, to `to`, if every gate of the step passes (or `force`
 * overrides the failing ones, with a reason). The change's audit row holds the gates' figures,
 * the forced gates and, for a flip, the pause.
 *
 * @example
 * declare const context: CutoverContext;
 * const report = await cutover(context, 'money', 'pg_primary', { reason: 'checklist complete' });
 * if (report.flip) console.log(`writes paused ${report.flip.pauseMs} ms`);
 */
export async function cutover(
  context: CutoverContext,
  domain: string,
  to: Phase,
  request: ChangeRequest = {},
): Promise<CutoverReport> {
  const reason = request.reason?.trim();
  if (request.force === true && (reason === undefined || reason === ''))
    throw new FerryError('--force overrides a failing gate only with a reason', {
      code: 'CUTOVER_FORCE_NEEDS_REASON',
      category: 'usage',
      hint: 'add --reason "…" saying why the gate may be passed; it is kept in ferry.domain_events',
    });
  const { from, collections } = await currentPhase(context, domain);
  const next = nextPhase(from);
  if (to !== next)
    throw new FerryError(
      next === undefined
        ? `domain "${domain}" is in ${from}, the last phase; there is nothing to cut over to`
        : `ferry cutover moves one phase at a time: domain "${domain}" is in ${from}, so the next phase is ${next}, not ${to}`,
      {
        code: 'CUTOVER_NOT_NEXT_PHASE',
        category: 'usage',
        hint: 'to step back, use `ferry rollback`',
      },
    );
  const db = targetOf(context.pool);
  const gates = await evaluateGates(
    db,
    { domain, collections, from, to, schema: context.schema },
    context.limits,
  );
  const failing = gates.filter((g) => !g.ok).map((g) => g.name);
  if (request.dryRun === true || (failing.length > 0 && request.force !== true))
    return { domain, from, to, gates, forced: request.force === true ? failing : [], changed: false };
  const change = {
    reason: reason || `gates passed: ${gates.map((g) => g.name).join(', ') || 'none apply'}`,
    ...(request.actor !== undefined && { actor: request.actor }),
    figures: { command: 'cutover', gates, ...(failing.length > 0 && { forced: failing }) },
  };
  const flip = await changePhase(context, domain, from, to, change);
  return { domain, from, to, gates, forced: failing, changed: true, ...(flip !== undefined && { flip }) };
}

/**
 * What a rollback did.
 *
 * @example
 * declare const context: CutoverContext;
 * const { from, to, flip }: RollbackReport = await rollback(context, 'money');
 */
export interface RollbackReport {
  readonly domain: string;
  readonly from: Phase;
  readonly to: Phase;
  readonly flip?: FlipReport;
}

/**
 * Step `domain` back to `to` (default: the phase before its current one), any phase whose
 * other store is still complete. Refused from `pg_only`, where MongoDB is no longer fed.
 * No gates: stepping back is the way out of trouble.
 *
 * @example
 * declare const context: CutoverContext;
 * await rollback(context, 'money', { to: 'pg_read', reason: 'p99 regression after the flip' });
 */
export async function rollback(
  context: CutoverContext,
  domain: string,
  request: ChangeRequest & { readonly to?: Phase } = {},
): Promise<RollbackReport> {
  const { from } = await currentPhase(context, domain);
  const to = request.to ?? PHASES[PHASES.indexOf(from) - 1];
  checkRollback(domain, from, to);
  const change = {
    reason: request.reason?.trim() || `rollback from ${from}`,
    ...(request.actor !== undefined && { actor: request.actor }),
    figures: { command: 'rollback' },
  };
  const flip = await changePhase(context, domain, from, to, change);
  return { domain, from, to, ...(flip !== undefined && { flip }) };
}

/** Refuse a rollback that is not backward, or that leaves no complete store behind. */
export function checkRollback(domain: string, from: Phase, to: Phase | undefined): asserts to is Phase {
  if (from === 'pg_only')
    throw new FerryError(
      `domain "${domain}" is in pg_only: MongoDB is no longer fed, so it is not complete and the domain cannot step back`,
      {
        code: 'ROLLBACK_FROM_PG_ONLY',
        category: 'usage',
        hint: 'restore MongoDB from PostgreSQL first (`ferry export`), outside the cutover',
      },
    );
  if (to === undefined || PHASES.indexOf(to) >= PHASES.indexOf(from))
    throw new FerryError(
      to === undefined
        ? `domain "${domain}" is in ${from}, the first phase; there is nothing to roll back to`
        : `ferry rollback steps back: domain "${domain}" is in ${from}, and ${to} is not before it`,
      { code: 'ROLLBACK_NOT_BACKWARD', category: 'usage', hint: 'to move forward, use `ferry cutover`' },
    );
}

/** The change itself: a flip with both stores when it needs one, else the audited phase update. */
export async function changePhase(
  context: CutoverContext,
  domain: string,
  from: Phase,
  to: Phase,
  change: { reason: string; actor?: string; figures: Record<string, unknown> },
): Promise<FlipReport | undefined> {
  if (!needsBothStores(from, to)) {
    // Outside the primary's boundary a write never holds the domain lock, so there is nothing
    // to wait for; the phase row's lock still orders two changes of one domain.
    await setPhase(context.pool, domain, to, change);
    return undefined;
  }
  if (context.stores === undefined)
    throw new FerryError(`moving domain "${domain}" from ${from} to ${to} needs the live MongoDB`, {
      code: 'RUNTIME_SOURCE_NOT_LIVE',
      category: 'usage',
      hint: 'pass the primary as mongodb://host/database (--source, or `source` in ferry.config.ts)',
    });
  return flipPhase(context.stores, domain, to, {
    change,
    lockTimeoutMs: context.limits.lockTimeoutMs,
    expectFrom: from,
  });
}

/** The domain's phase and collections, from `ferry.domains`. */
export async function currentPhase(
  context: CutoverContext,
  domain: string,
): Promise<{ from: Phase; collections: readonly string[] }> {
  const state = (await readDomains(targetOf(context.pool))).find((d) => d.name === domain);
  if (state === undefined) throw unknownDomain(domain);
  return { from: state.phase, collections: state.collections };
}
