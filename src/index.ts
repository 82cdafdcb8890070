/**
 * Ferry's public library surface. Everything an application or a script may rely on is
 * re-exported here; anything else is internal and may change.
 */

export { type ConfigOverrides, loadConfig, type ResolvedConfig, validateConfig } from './config/load.js';
export { defineConfig, type FerryConfig } from './config/schema.js';
export {
  asFerryError,
  describeLocation,
  type ErrorCategory,
  type ErrorClass,
  type ErrorLocation,
  ExitCode,
  exitCodeFor,
  FerryError,
} from './core/errors.js';
export { createLogger, type Logger, type LoggerOptions } from './core/log.js';
export { redactSecrets, redactUri } from './core/redact.js';
// Seeded test data.
// Seeded marketplace data for demos and benchmarks.
export {
  type GenerateOptions,
  generateMarketplace,
  generateNastyDocuments,
  seedFromEnv,
  writeMarketplaceArchive,
} from './generate/index.js';
// Inference statistics.
export {
  type CollectionSnapshot,
  type CollectStatsOptions,
  collectStats,
  type FieldSnapshot,
  type InferenceSnapshot,
  InferenceStats,
  type ReferenceFinding,
} from './infer/index.js';
export { type InferMappingOptions, type InferredMapping, inferMapping } from './infer/infer-mapping.js';
export { proposeMapping } from './infer/propose.js';
export { checkPlanAgainstStats } from './infer/propose-check.js';
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
// Canonical comparison and deterministic identity (DESIGN.md invariants 4 and 5).
export {
  CANONICAL_HASH_MASK,
  type CanonicalDifference,
  type CanonicalDiffOptions,
  canonicalBytes,
  canonicalDiff,
  canonicalEqual,
  canonicalHash,
} from './mapping/canonical/index.js';
export { isObjectIdUuid, objectIdToUuid, uuidToObjectId } from './mapping/identity.js';
// The mapping: one plan, both directions (DESIGN.md invariant 1).
export {
  type CollectionPlan,
  type ColumnPlan,
  PLAN_VERSION,
  type Plan,
  type PlanInput,
  physicalColumns,
  primaryKey,
  type TablePlan,
} from './mapping/model.js';
export { ferryTypes } from './mapping/pg-parsers.js';
export type { MappingReject, RejectCode } from './mapping/reject.js';
export type { DocumentRows, RowValue, RowValues } from './mapping/row-values.js';
export { toDoc } from './mapping/to-doc.js';
export { type MappingOptions, type ToRowsResult, toRows } from './mapping/to-rows.js';
export { defineTransforms, type Transform, type TransformRegistry } from './mapping/transforms.js';
export { checkPlan, type PlanProblem, parsePlan } from './mapping/validate-plan.js';
export { type DemoOptions, type DemoResult, runDemo } from './migrate/demo.js';
// The one-shot and the demo.
export { type MigrateOptions, type MigrateResult, type MigrateStep, migrate } from './migrate/migrate.js';
// The runtime inside the application: domains and phases, the mirrored write path, gaps,
// documents read back from PostgreSQL (DESIGN.md "The runtime").
export { type WrapOptions, wrapCollection } from './runtime/collection-wrapper.js';
export { readDocuments } from './runtime/document-reader.js';
export {
  type DomainDefinitions,
  type DomainEvent,
  type DomainState,
  domainEvents,
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
export {
  type ReconcileOptions,
  type ReconcileSummary,
  reconcileGaps,
  watchGaps,
} from './runtime/reconcile.js';
export { isTransientError, type RuntimeRetryOptions, withTransientRetry } from './runtime/retry-policy.js';
export { createRuntime, type Runtime, type RuntimeOptions } from './runtime/runtime.js';
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
// Schema: DDL as data, index translation, load order, migrations and drift.
export {
  appliedMigrations,
  applyMigrations,
  buildSchema,
  checkDrift,
  type DdlPhases,
  type DdlStatement,
  type Drift,
  ddlPhases,
  diffSchemas,
  loadOrder,
  type MigrationFile,
  readMigrationFiles,
  renderSql,
  type SchemaModel,
  type SchemaWarning,
  type TtlRule,
  translateIndexes,
  writeMigrations,
} from './schema/index.js';
export { openArchiveSource } from './sources/archive/archive-source.js';
export { type WriteArchiveOptions, writeArchive } from './sources/archive/write-archive.js';
export { detectSourceKind } from './sources/detect.js';
export { openDumpSource } from './sources/dump/dump-source.js';
export { type CollectionToWrite, writeDumpDirectory } from './sources/dump/write-dump-directory.js';
export { type EjsonSourceOptions, openEjsonSource, parseExtendedJson } from './sources/ejson/index.js';
export { type InspectedCollection, type InspectProgress, inspectSource } from './sources/inspect.js';
export { detectJsonFlavour, type JsonSourceOptions, openJsonSource } from './sources/json/index.js';
export {
  type IdRange,
  type MongoSource,
  type MongoSourceOptions,
  openMongoSource,
} from './sources/mongodb/index.js';
export { type OpenSourceOptions, openSource } from './sources/open.js';
// Sources: documents out of MongoDB, dumps, exports and JSON files.
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
export { connectPostgres } from './target/connect.js';
export { type OpenTargetOptions, openTarget } from './target/open-target.js';
export { isRetryable, RETRYABLE_SQLSTATES, type RetryOptions, withRetry } from './target/retry.js';
export type {
  CopyRows,
  QueryResult,
  TableRef,
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
