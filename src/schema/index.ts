/**
 * The schema step's public surface: DDL from a plan, index translation, load order,
 * migrations and drift. (Meant to be re-exported from src/index.ts.)
 *
 * @example
 * declare const plan: Plan;
 * declare const db: TargetDatabase;
 * const { beforeLoad } = ddlPhases(buildSchema(plan));
 * await db.query(renderSql(beforeLoad, { kind: 'schema', name: 'app' }));
 */
export {
  type AppliedMigration,
  type ApplyOptions,
  appliedMigrations,
  applyMigrations,
} from './apply-migrations.js';
export { buildSchema } from './build-schema.js';
export { describeStatement, diffSchemas, type Reload, type SchemaDiff } from './diff.js';
export { checkDrift, type Drift, type DriftInputs } from './drift.js';
export {
  type EvolutionPlan,
  type EvolutionStep,
  type EvolveOptions,
  type EvolveResult,
  evolveSchema,
} from './evolve-schema.js';
export { type TranslatedIndexes, translateIndexes } from './index-translation.js';
export { type DependencyEdge, type LoadOrder, loadOrder } from './load-order.js';
export {
  checksum,
  commitMigrations,
  type MigrationFile,
  type MigrationPhase,
  type PendingMigrations,
  planMigrations,
  readMigrationFiles,
  readSnapshot,
  writeMigrations,
} from './migration-files.js';
export { type DdlPhases, ddlPhases } from './phases.js';
export type {
  AppendOnlyGuard,
  CaptureTriggerDef,
  CheckDef,
  ColumnDef,
  ForeignKeyDef,
  IndexDef,
  IndexKey,
  SchemaModel,
  SchemaWarning,
  TableDef,
  TtlRule,
} from './schema-model.js';
export { mappingFromConfig, type SchemaPlanReport, schemaPlanReport, targetSchemas } from './schema-plan.js';
export { bindSchema, SCHEMA_PLACEHOLDER, type SchemaTarget } from './sql-text.js';
export {
  APPEND_ONLY_SQLSTATE,
  APPEND_ONLY_TRIGGER,
  compileStatement,
  type DdlStatement,
  isDestructive,
  renderSql,
} from './statements.js';
export { isWidening } from './widening.js';
