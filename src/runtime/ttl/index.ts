/**
 * The TTL job's public surface: run the plan's TTL rules once or on an interval, and read
 * what the last run removed. (Re-exported from src/index.ts.)
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await ensureFerryState(db);
 * await runTtlRules(db, buildSchema(plan), { schema: 'public' });
 * console.log((await lastTtlRun(db, 'public'))?.removed);
 */
export { DEFAULT_TTL_BATCH_SIZE, runTtlRules, type TtlOptions, watchTtlRules } from './ttl-job.js';
export { lastTtlRun, type TtlRuleOutcome, type TtlRun } from './ttl-runs.js';
