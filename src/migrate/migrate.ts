import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileExists } from '../core/file-exists.js';
import type { CollectProgress } from '../infer/collect-stats.js';
import { inferMapping } from '../infer/infer-mapping.js';
import type { InferenceReport } from '../infer/report.js';
import { renderConfig } from '../infer/write-config.js';
import { backfill } from '../load/backfill.js';
import type { BackfillOptions, BackfillProgress, BackfillSummary } from '../load/types.js';
import type { Plan, PlanInput } from '../mapping/model.js';
import { parsePlan } from '../mapping/validate-plan.js';
import { applyMigrations } from '../schema/apply-migrations.js';
import { buildSchema } from '../schema/build-schema.js';
import { readMigrationFiles, writeMigrations } from '../schema/migration-files.js';
import type { Source } from '../sources/types.js';
import type { TargetDatabase } from '../target/target-database.js';
import type { ReconcileCheck } from '../verify/reconcile-config.js';
import type { VerifyLevel, VerifyResult } from '../verify/types.js';
import { verify } from '../verify/verify.js';

/** The steps of `ferry migrate`, in order, for progress and summaries. */
export type MigrateStep = 'infer' | 'schema' | 'backfill' | 'finish' | 'verify';

export interface MigrateOptions {
  readonly source: Source;
  /** The source as the user gave it, written into a proposed config. */
  readonly sourceLocation: string;
  readonly target: TargetDatabase;
  /** The reviewed mapping; without one the mapping is inferred from the source. */
  readonly mapping?: PlanInput;
  /** Where an inferred mapping is written for review, unless that file already exists. */
  readonly configFile?: string;
  /** The migrations folder in the user's app (default `migrations`). */
  readonly migrationsDir?: string;
  readonly schemas?: readonly string[];
  /** Infer from a sample of N documents per collection. */
  readonly sample?: number;
  readonly backfill?: Pick<
    BackfillOptions,
    'batchSize' | 'parallel' | 'maxRejects' | 'force' | 'only' | 'transforms'
  >;
  /** How the result is proved (default `deep`); `none` skips it. */
  readonly verify?: VerifyLevel | 'none';
  /** Reconciliation checks from the config, run by the verification. */
  readonly checks?: readonly ReconcileCheck[];
  readonly signal?: AbortSignal;
  readonly onStep?: (step: MigrateStep) => void;
  readonly onInferProgress?: (progress: CollectProgress) => void;
  readonly onBackfillProgress?: (progress: BackfillProgress) => void;
}

export interface MigrateResult {
  readonly plan: Plan;
  /** Present when the mapping was inferred in this run. */
  readonly inferred?: { readonly report: InferenceReport; readonly configFile?: string };
  readonly schema: {
    readonly written: readonly string[];
    readonly applied: Readonly<Record<string, readonly number[]>>;
  };
  readonly backfill: BackfillSummary;
  /** One verification per target schema, unless `verify: 'none'`. */
  readonly verify: readonly VerifyResult[];
  readonly ok: boolean;
}

/**
 * The one-shot a new user runs first: infer the mapping when none exists (writing it for
 * review), write and apply the schema migrations, backfill, apply what belongs after the
 * load, then prove the result with `verify` (deep by default). Each step is the same library call its own command makes, so `migrate` is never
 * a second implementation of any of them.
 *
 * The schema goes in two halves around the load: tables first, then foreign keys and indexes,
 * because loading into indexed, constrained tables is several times slower.
 *
 * @example
 * declare const source: Source;
 * declare const target: TargetDatabase;
 * const result = await migrate({ source, sourceLocation: 'dump/', target, schemas: ['public'] });
 * console.log(result.backfill.collections.map((c) => [c.collection, c.migrated]));
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const schemas = options.schemas ?? ['public'];
  const migrationsDir = options.migrationsDir ?? 'migrations';
  let plan: Plan;
  let inferred: MigrateResult['inferred'];
  if (options.mapping) {
    plan = parsePlan(options.mapping);
  } else {
    options.onStep?.('infer');
    const proposal = await inferMapping(options.source, {
      ...(options.sample === undefined ? {} : { sample: options.sample }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onInferProgress ? { onProgress: options.onInferProgress } : {}),
    });
    plan = proposal.plan;
    const configFile = await writeProposal(
      options.configFile,
      renderConfig(plan, proposal.report, { source: options.sourceLocation }),
    );
    inferred = { report: proposal.report, ...(configFile ? { configFile } : {}) };
  }

  options.onStep?.('schema');
  const { written } = await writeMigrations(migrationsDir, buildSchema(plan));
  const files = await readMigrationFiles(migrationsDir);
  const beforeLoad = await applyMigrations(options.target, files, schemas, { until: 'before-load' });

  options.onStep?.('backfill');
  const summary = await backfill({
    source: options.source,
    target: options.target,
    plan,
    schemas,
    command: 'migrate',
    ...options.backfill,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onBackfillProgress ? { onProgress: options.onBackfillProgress } : {}),
  });

  options.onStep?.('finish');
  // The backfill already created what it needed after each collection; the after-load file
  // is idempotent, and applying it records it in ferry.migrations so `schema check` is clean.
  const afterLoad = await applyMigrations(options.target, files, schemas);
  const applied = Object.fromEntries(
    schemas.map((s) => [s, [...(beforeLoad.get(s) ?? []), ...(afterLoad.get(s) ?? [])]]),
  );

  const verified: VerifyResult[] = [];
  const level = options.verify ?? 'deep';
  if (level !== 'none') {
    options.onStep?.('verify');
    for (const schema of schemas) {
      verified.push(
        await verify({
          source: options.source,
          db: options.target,
          plan,
          schema,
          level,
          sourceUri: options.sourceLocation,
          ...(options.checks ? { checks: options.checks } : {}),
          ...(options.backfill?.only ? { only: options.backfill.only } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
    }
  }
  return {
    plan,
    ...(inferred ? { inferred } : {}),
    schema: { written: written.map((f) => f.file), applied },
    backfill: summary,
    verify: verified,
    ok: summary.ok && verified.every((v) => v.ok),
  };
}

/** Write the proposed config for review, never over an existing file. */
async function writeProposal(file: string | undefined, text: string): Promise<string | undefined> {
  if (file === undefined) return undefined;
  if (await fileExists(file)) return undefined;
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, text);
  return file;
}
