import os from 'node:os';
import { FerryError } from '../../core/errors.js';
import { PHASES, type Phase } from '../domains.js';
import { targetOf } from '../stores.js';
import {
  type ChangeRequest,
  type CutoverContext,
  changePhase,
  checkRollback,
  currentPhase,
} from './cutover.js';
import type { FlipReport } from './flip-phase.js';

/**
 * The rollback drill (DESIGN.md runtime rule 5): step a domain back one phase and forward
 * again, under whatever traffic the application sends, then verify the stores, and record the
 * outcome in `ferry.rollback_drills`, where the cutover gate `rollback_drill` reads it.
 */

/**
 * The verification a drill ends with: a deep verify of the domain's collections (the CLI
 * passes Ferry's own `verify`). `ok` false fails the drill with `detail` as its reason.
 *
 * @example
 * const check: DrillVerify = async (collections) => ({ ok: true, detail: `${collections.length} collections clean` });
 */
export type DrillVerify = (collections: readonly string[]) => Promise<{ ok: boolean; detail: string }>;

/**
 * What a drill did; recorded whether it passed or not.
 *
 * @example
 * declare const context: CutoverContext;
 * declare const check: DrillVerify;
 * const drill: DrillReport = await rollbackDrill(context, 'money', check);
 * if (!drill.ok) console.error(drill.failure);
 */
export interface DrillReport {
  readonly domain: string;
  /** The phase the drill started (and should end) in. */
  readonly phase: Phase;
  readonly backTo: Phase;
  readonly ok: boolean;
  readonly failure?: string;
  /** The phase the domain is in afterwards (the drill's phase, unless a step failed). */
  readonly endedIn: Phase;
  readonly back?: FlipReport;
  readonly forward?: FlipReport;
  readonly verify?: string;
  readonly id: number;
}

/**
 * Run a drill of `domain` from its current phase (see above). Refused in `mongo` (nothing to
 * step back to) and in `pg_only` (MongoDB is no longer complete).
 *
 * @example
 * declare const context: CutoverContext;
 * const drill = await rollbackDrill(context, 'money', async () => ({ ok: true, detail: 'clean' }));
 * console.log(drill.ok, drill.back?.pauseMs, drill.forward?.pauseMs);
 */
export async function rollbackDrill(
  context: CutoverContext,
  domain: string,
  verify: DrillVerify,
  request: ChangeRequest = {},
): Promise<DrillReport> {
  const { from: phase, collections } = await currentPhase(context, domain);
  const backTo = PHASES[PHASES.indexOf(phase) - 1];
  checkRollback(domain, phase, backTo);
  const started = new Date();
  const actor = request.actor ?? `${safeUser()}@${os.hostname()}`;
  const reason = request.reason?.trim() || 'rollback drill';
  let back: FlipReport | undefined;
  let forward: FlipReport | undefined;
  let endedIn: Phase = phase;
  let verified: string | undefined;
  let failure: string | undefined;
  let step = 'stepping back';
  try {
    back = await changePhase(context, domain, phase, backTo, {
      reason: `${reason}: back to ${backTo}`,
      actor,
      figures: { command: 'rollback --drill', step: 'back' },
    });
    endedIn = backTo;
    step = 'stepping forward again';
    forward = await changePhase(context, domain, backTo, phase, {
      reason: `${reason}: forward again to ${phase}`,
      actor,
      figures: { command: 'rollback --drill', step: 'forward' },
    });
    endedIn = phase;
    step = 'verifying';
    const check = await verify(collections);
    verified = check.detail;
    if (!check.ok) failure = `the verification after the drill failed: ${check.detail}`;
  } catch (error) {
    failure = `${step} failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  const figures = {
    ...(back && { back: pause(back) }),
    ...(forward && { forward: pause(forward) }),
    ...(verified !== undefined && { verify: verified }),
    endedIn,
  };
  const { rows } = await targetOf(context.pool).query<{ id: string }>(
    `insert into ferry.rollback_drills (domain, phase, back_to, ok, failure, figures, actor, started_at)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) returning id::text as id`,
    [domain, phase, backTo, failure === undefined, failure ?? null, JSON.stringify(figures), actor, started],
  );
  return {
    domain,
    phase,
    backTo,
    ok: failure === undefined,
    ...(failure !== undefined && { failure }),
    endedIn,
    ...(back && { back }),
    ...(forward && { forward }),
    ...(verified !== undefined && { verify: verified }),
    id: Number(rows[0]!.id),
  };
}

/**
 * The error a failed drill ends the command with (the drill itself is recorded either way).
 *
 * @example
 * declare const drill: DrillReport;
 * if (!drill.ok) throw drillFailed(drill);
 */
export function drillFailed(drill: DrillReport): FerryError {
  return new FerryError(
    `the rollback drill of domain "${drill.domain}" failed: ${drill.failure ?? 'unknown'}`,
    {
      code: 'ROLLBACK_DRILL_FAILED',
      category: 'problem',
      hint: `the domain is in ${drill.endedIn}; the failure is recorded in ferry.rollback_drills`,
    },
  );
}

function pause(flip: FlipReport): Record<string, number> {
  return { pauseMs: flip.pauseMs, waitMs: flip.waitMs, drainMs: flip.drainMs };
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
