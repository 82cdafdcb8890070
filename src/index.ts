/**
 * Ferry's public library surface: what an application or a script needs to configure Ferry,
 * move data, map documents to rows and back, and prove the result. Anything not re-exported
 * here is internal and may change; the test data generators (src/generate/) are not API.
 *
 * The exports are kept in path order (the formatter sorts them), so each section comment
 * sits on the first export of its folder.
 */

// Configuration: `ferry.config.ts` and how it is loaded.
export { type ConfigOverrides, loadConfig, type ResolvedConfig } from './config/load.js';
export { defineConfig, type FerryConfig } from './config/schema.js';
// Errors: one base class with a stable code, the catalogue of codes, and the exit codes of the CLI.
export { ERROR_CODES, type ErrorCode } from './core/error-codes.js';
export {
  type ErrorCategory,
  type ErrorClass,
  type ErrorLocation,
  ExitCode,
  exitCodeFor,
  FerryError,
} from './core/errors.js';
// The way back: documents rebuilt from PostgreSQL, written as an archive, a dump or JSON.
export {
  type ExportedCollection,
  type ExportOptions,
  type ExportSummary,
  exportDocuments,
} from './export/export.js';
export type { ExportFormat, JsonLayout } from './export/export-format.js';
export { type ExportManifest, readExportManifest } from './export/export-manifest.js';
export type { UnrebuildableRow } from './export/orphan-rows.js';
// Inference: a proposed mapping from the data.
export { type InferMappingOptions, type InferredMapping, inferMapping } from './infer/infer-mapping.js';
// `ferry infer --models`: what the application's Mongoose models declare, merged with the data.
export { mergeModels } from './infer/models/merge-models.js';
export { ModelObserver, type ObservedValues } from './infer/models/model-observations.js';
export type { ModelField, ModelIndex, ModelSchema, ModelSchemas } from './infer/models/model-schema.js';
export { type ReadModelsOptions, readModels } from './infer/models/read-models.js';
export type { IndexDecision } from './infer/report.js';
// Backfill: COPY, checkpoints and rejects (DESIGN.md invariants 2 and 3).
export {
  type BackfillOptions,
  type BackfillProgress,
  type BackfillSummary,
  backfill,
  type CollectionSummary,
  listRejects,
  type RejectFilter,
  retryRejects,
  showReject,
} from './load/index.js';
// The mapping: one plan, both directions (DESIGN.md invariant 1), canonical comparison and
// deterministic identity (invariants 4 and 5).
export {
  type CanonicalDifference,
  type CanonicalDiffOptions,
  canonicalDiff,
  canonicalEqual,
  canonicalHash,
} from './mapping/canonical/index.js';
export { isObjectIdUuid, objectIdToUuid, uuidToObjectId } from './mapping/identity.js';
export {
  type CollectionPlan,
  type ColumnPlan,
  PLAN_VERSION,
  type Plan,
  type PlanInput,
  type TablePlan,
} from './mapping/model.js';
export { ferryTypes } from './mapping/pg-parsers.js';
export type { MappingReject, RejectCode } from './mapping/reject.js';
export type { DocumentRows, RowValue, RowValues } from './mapping/row-values.js';
export { toDoc } from './mapping/to-doc.js';
export { type MappingOptions, type ToRowsResult, toRows } from './mapping/to-rows.js';
export { defineTransforms, type Transform, type TransformRegistry } from './mapping/transforms.js';
export { checkPlan, type PlanProblem, parsePlan } from './mapping/validate-plan.js';
// The one-shot: infer, schema, backfill, verify.
export { type MigrateOptions, type MigrateResult, type MigrateStep, migrate } from './migrate/migrate.js';
// The runtime inside the application: domains and phases, the mirrored write path, gaps,
// documents read back from PostgreSQL (DESIGN.md "The runtime").
export { type WrapOptions, wrapCollection } from './runtime/collection-wrapper.js';
export {
  type ChangeRequest,
  type CutoverContext,
  type CutoverLimits,
  type CutoverReport,
  cutover,
  cutoverLimits,
  type DrillReport,
  type DrillVerify,
  evaluateGates,
  type FlipReport,
  flipPhase,
  GATES_BY_PHASE,
  type GateName,
  type GateResult,
  type RollbackReport,
  rollback,
  rollbackDrill,
} from './runtime/cutover/index.js';
export { readDocuments } from './runtime/document-reader.js';
export {
  type DomainDefinitions,
  type DomainEvent,
  type DomainState,
  domainEvents,
  feedsMongo,
  mirrorsWrites,
  PHASE_CHANNEL,
  PHASES,
  type Phase,
  type PhaseChange,
  type PhaseTransition,
  readDomains,
  registerDomains,
  setPhase,
} from './runtime/domains.js';
export {
  type CopyOutcome,
  copyEntitiesToPostgres,
  EntityCopyError,
  entityLockKey,
  type RuntimeStores,
} from './runtime/entity-copy.js';
export {
  GAP_COLLECTION,
  type GapSummary,
  gapSummary,
  type OpenGap,
  openGaps,
  recordGaps,
} from './runtime/gaps.js';
export type { MirrorMode, MirrorStats } from './runtime/mirror.js';
export { ferryMongoosePlugin } from './runtime/mongoose-plugin.js';
// The outbox: PostgreSQL primary, MongoDB kept fed (phase pg_primary).
export {
  type DeliveryOutcome,
  type DeliveryPolicy,
  enqueueOutbox,
  OUTBOX_CHANNEL,
  type OutboxBatchReport,
  type OutboxFigures,
  type OutboxTarget,
  type OutboxWorkerOptions,
  type OutboxWorkSummary,
  outbox,
  outboxFigures,
  type RedriveFilter,
  redriveOutbox,
  workOutbox,
} from './runtime/outbox/index.js';
export {
  type ReconcileOptions,
  type ReconcileSummary,
  reconcileGaps,
  watchGaps,
} from './runtime/reconcile.js';
export { isTransientError, type RuntimeRetryOptions, withTransientRetry } from './runtime/retry-policy.js';
export { createRuntime, type PrimaryWrite, type Runtime, type RuntimeOptions } from './runtime/runtime.js';
export {
  applyProjection,
  type CleanLimits,
  cleanValues,
  compareResults,
  type ReadShape,
  type RoutedRead,
  readFromPostgres,
  readRoute,
  routableIds,
  type ShadowConfig,
  type ShadowCounts,
  type ShadowDifference,
  type Shadower,
  type ShadowJob,
  type ShadowOutcome,
  type ShadowReadOptions,
  type ShadowSettings,
  type SortSpec,
  shadowRead,
  shadowRoutedRead,
  shadowSettings,
  sortDocuments,
} from './runtime/shadow/index.js';
export {
  type LoadState,
  readStatusSnapshot,
  type ShadowFigures,
  type StatusSnapshot,
  type TtlFigures,
  type VerifiedCollection,
} from './runtime/status-snapshot.js';
// `ferry sync` as a library: drift found with the deep-verify buckets, repaired by the copier.
export {
  type CollectionSyncResult,
  type DriftKind,
  type EntityDrift,
  findDrift,
  lastSyncRun,
  type SyncOptions,
  type SyncResult,
  syncStores,
} from './runtime/sync/index.js';
// TTL jobs: the plan's translated expireAfterSeconds indexes, run in small batches.
export {
  DEFAULT_TTL_BATCH_SIZE,
  lastTtlRun,
  runTtlRules,
  type TtlOptions,
  type TtlRuleOutcome,
  type TtlRun,
  watchTtlRules,
} from './runtime/ttl/index.js';
// Schema as ORM code: Drizzle and Prisma schemas of the plan's tables.
export { exportDrizzle, exportPrisma, type OrmExportOptions } from './schema/export/index.js';
// Schema: DDL as data, migrations and drift.
export {
  APPEND_ONLY_SQLSTATE,
  type AppendOnlyGuard,
  appliedMigrations,
  applyMigrations,
  buildSchema,
  type CaptureTriggerDef,
  checkDrift,
  type DdlStatement,
  type Drift,
  type MigrationFile,
  renderSql,
  type SchemaModel,
  type SchemaWarning,
  type TtlRule,
  writeMigrations,
} from './schema/index.js';
// `ferry serve`: the health endpoints, /metrics and the dashboard, as a server or plugins for
// the app's own, and the zod schemas of their JSON.
export {
  buildServer,
  checkBinding,
  createServeContext,
  type DashboardOptions,
  type DatabasesHealth,
  DEFAULT_THRESHOLDS,
  dashboardPlugin,
  dashboardServePlugin,
  databasesHealthSchema,
  errorResponseSchema,
  type FerryHealthOptions,
  type FerryServeContext,
  type FerryServePlugin,
  ferryHealthPlugin,
  livenessSchema,
  readinessSchema,
  resolveThresholds,
  type ServeContextOptions,
  type ServeOptions,
  type SyncHealth,
  type SyncThresholds,
  syncHealth,
  syncHealthSchema,
} from './serve/index.js';
// Sources: documents out of MongoDB, dumps, exports and JSON files.
export { type InspectedCollection, type InspectProgress, inspectSource } from './sources/inspect.js';
export { installDriverWriteGuard } from './sources/mongodb/driver-write-guard.js';
export { type MongoSource, type MongoSourceOptions, openMongoSource } from './sources/mongodb/index.js';
export { type OpenSourceOptions, openSource } from './sources/open.js';
export type {
  CollectionInfo,
  CollectionStats,
  IndexSpec,
  ReadOptions,
  ResumePosition,
  Source,
  SourceBatch,
  SourceKind,
  SourceReject,
} from './sources/types.js';
// Target: the PostgreSQL server or embedded PGlite that Ferry writes to.
export { type OpenTargetOptions, openTarget } from './target/open-target.js';
export type {
  CopyRows,
  QueryResult,
  TableRef,
  TargetCapabilities,
  TargetDatabase,
  TargetSession,
  TargetTransaction,
} from './target/target-database.js';
export { TargetError } from './target/target-error.js';
// Verification: every document compared with the one rebuilt from PostgreSQL.
export {
  lastVerifyRun,
  type ReconcileCheck,
  renderVerifyHtml,
  renderVerifyText,
  type VerifyOptions,
  type VerifyRun,
  verify,
} from './verify/index.js';
export type { CollectionVerifyResult, VerifyDifference, VerifyLevel, VerifyResult } from './verify/types.js';
