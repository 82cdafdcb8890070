/**
 * Cutover (issue 15): the gates, the coherent primary flip, rollback and its drill.
 * See docs/cutover.md for which gate applies to which step.
 */

export {
  type ChangeRequest,
  type CutoverContext,
  type CutoverReport,
  cutover,
  needsBothStores,
  type RollbackReport,
  rollback,
} from './cutover.js';
export { type CutoverLimits, cutoverConfigSchema, cutoverLimits } from './cutover-config.js';
export { type FlipOptions, type FlipReport, flipPhase } from './flip-phase.js';
export {
  evaluateGates,
  GATES_BY_PHASE,
  type GateName,
  type GateResult,
  type GateSubject,
  nextPhase,
} from './gates.js';
export { domainLockKey, mongoIsPrimary, underDomainLock } from './primary-lock.js';
export { type DrillReport, type DrillVerify, drillFailed, rollbackDrill } from './rollback-drill.js';
