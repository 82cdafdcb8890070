import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configSourcePath } from '../config/source-path.js';
import { FerryError } from '../core/errors.js';
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
import { dropIncomingKeys, type EvolutionPlan, evolveSchema } from '../schema/evolve-schema.js';
import { destructiveChange, readMigrationFiles } from '../schema/migration-files.js';
import type { Source } from '../sources/types.js';
import type { TargetDatabase } from '../target/target-database.js';
import type { ReconcileCheck } from '../verify/reconcile-config.js';
import type { VerifyLevel, VerifyResult } from '../verify/types.js';
import {
  checkSampleFraction,
  DEFAULT_SAMPLE_FRACTION,
  type VerifyOptions,
  verify,
} from '../verify/verify.js';

/**
 * The steps of `ferry migrate`, in order, for progress and summaries.
 *
 * @example
 * declare const source: Source;
 * declare const target: TargetDatabase;
 * await migrate({ source, sourceLocation: 'dump/', target, onStep: (step: MigrateStep) => console.log(step) });
 */
export type MigrateStep = 'infer' | 'schema' | 'backfill' | 'finish' | 'verify';

/**
 * What `migrate` runs on, and the options of its steps (infer, schema, backfill, verify).
 *
 * @example
 * declare const source: Source;
 * declare const target: TargetDatabase;
 * await migrate({ source, sourceLocation: 'dump/', target, configFile: 'ferry.config.ts', verify: 'deep' });
 */
export interface MigrateOptions {
  readonly source: Source;
  /** The source as the user gave it, written into a proposed config. */
  readonly sourceLocation: string;
  /** Where to migrate to; not touched (nor needed) with `dryRun`. */
  readonly target?: TargetDatabase;
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
    'batchSize' | 'parallel' | 'maxRejects' | 'force' | 'only' | 'transforms' | 'strict'
  >;
  /**
   * Infer (when there is no mapping) and read and transform every document as the backfill
   * would, then stop: no config file, no migration file, no schema, no row, no verification.
   */
  readonly dryRun?: boolean;
  /** How the result is proved (default `deep`); `none` skips it. */
  readonly verify?: VerifyLevel | 'none';
  /** How the verification compares: the sample (`fraction`, `seed`), and what it lists. */
  readonly verifyOptions?: Pick<
    VerifyOptions,
    'fraction' | 'seed' | 'showValues' | 'maxDifferences' | 'targetUrl'
  >;
  /**
   * Let the verification accept rejected documents (`--accept-rejects`). Rejects within
   * `backfill.maxRejects` are accepted too: the user already tolerated them.
   */
  readonly acceptRejects?: boolean;
  /** Reconciliation checks from the config, run by the verification. */
  readonly checks?: readonly ReconcileCheck[];
  readonly signal?: AbortSignal;
  readonly onStep?: (step: MigrateStep) => void;
  /**
   * Sees the schema change before it runs (to show it, or to ask); throw to stop. Destructive
   * steps are refused unless `backfill.force`, which reloads every collection anyway.
   */
  readonly onSchemaPlan?: (plan: EvolutionPlan) => Promise<void> | void;
  readonly onInferProgress?: (progress: CollectProgress) => void;
  readonly onBackfillProgress?: (progress: BackfillProgress) => void;
  readonly onVerifyProgress?: VerifyOptions['onProgress'];
}

/**
 * What each step of `migrate` did; `ok` only when the backfill is complete and every
 * verification passed.
 *
 * @example
 * declare const options: MigrateOptions;
 * const result = await migrate(options);
 * if (!result.ok) console.log(result.backfill.collections, result.verify);
 */
export interface MigrateResult {
  readonly plan: Plan;
  /** Present when the mapping was inferred in this run. */
  readonly inferred?: { readonly report: InferenceReport; readonly configFile?: string };
  readonly schema: {
    readonly written: readonly string[];
    readonly applied: Readonly<Record<string, readonly number[]>>;
  };
  readonly backfill: BackfillSummary;
  /** A dry run: nothing was written anywhere (see `MigrateOptions.dryRun`). */
  readonly dryRun: boolean;
  /** One verification per target schema, unless `verify: 'none'` or a dry run. */
  readonly verify: readonly VerifyResult[];
  readonly ok: boolean;
}

/**
 * The one-shot a new user runs first: infer the mapping when none exists (writing it for
 * review), write and apply the schema migrations, backfill, apply what belongs after the
 * load, then prove the result with `verify` (deep by default). Each step is the same library
 * call its own command makes, so `migrate` is never a second implementation of any of them.
 * With `dryRun` it stops after the backfill's dry run, having written nothing anywhere.
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
  const level = options.verify ?? 'deep';
  checkSampleFraction(level, options.verifyOptions?.fraction ?? DEFAULT_SAMPLE_FRACTION);
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
    const configFile = options.dryRun
      ? undefined
      : await writeProposal(
          options.configFile,
          renderConfig(plan, proposal.report, {
            source:
              options.configFile === undefined
                ? options.sourceLocation
                : configSourcePath(options.sourceLocation, options.configFile),
          }),
        );
    inferred = { report: proposal.report, ...(configFile ? { configFile } : {}) };
  }
  if (options.dryRun === true) return dryRun(options, plan, schemas, inferred);
  const target = options.target;
  if (target === undefined)
    throw new FerryError('migrate needs a target database', { code: 'LOAD_NO_TARGET', category: 'usage' });

  options.onStep?.('schema');
  const force = options.backfill?.force === true;
  let reload: readonly string[] = [];
  const evolved = await evolveSchema({
    db: target,
    dir: migrationsDir,
    model: buildSchema(plan),
    schemas,
    until: 'before-load',
    confirm: async (evolution) => {
      await options.onSchemaPlan?.(evolution);
      // `force` reloads everything anyway, so it is also consent to re-create tables.
      if (evolution.destructive.length > 0 && !force) throw destructiveChange(evolution.destructive);
      reload = evolution.reloads.map((r) => r.collection);
    },
  });
  const written = evolved.written;
  const beforeLoad = evolved.applied;
  const files = await readMigrationFiles(migrationsDir);

  if (reload.length > 0 && !force)
    for (const schema of schemas) await dropIncomingKeys(target, buildSchema(plan), schema, reload);
  options.onStep?.('backfill');
  const summary = await backfill({
    source: options.source,
    target,
    plan,
    schemas,
    command: 'migrate',
    ...options.backfill,
    ...(reload.length > 0 ? { reload } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onBackfillProgress ? { onProgress: options.onBackfillProgress } : {}),
  });

  options.onStep?.('finish');
  // The backfill already created what it needed after each collection; the after-load file
  // is idempotent, and applying it records it in ferry.migrations so `schema check` is clean.
  const afterLoad = await applyMigrations(target, files, schemas);
  const applied = Object.fromEntries(
    schemas.map((s) => [s, [...(beforeLoad.get(s) ?? []), ...(afterLoad.get(s) ?? [])]]),
  );

  const verified: VerifyResult[] = [];
  if (level !== 'none') {
    options.onStep?.('verify');
    for (const schema of schemas) {
      verified.push(
        await verify({
          source: options.source,
          db: target,
          plan,
          schema,
          level,
          ...options.verifyOptions,
          sourceUri: options.sourceLocation,
          acceptRejects:
            options.acceptRejects === true ||
            (options.backfill?.maxRejects !== undefined && summary.rejected <= options.backfill.maxRejects),
          ...(options.checks ? { checks: options.checks } : {}),
          ...(options.backfill?.only ? { only: options.backfill.only } : {}),
          ...(options.onVerifyProgress ? { onProgress: options.onVerifyProgress } : {}),
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
    dryRun: false,
    verify: verified,
    ok: summary.ok && verified.every((v) => v.ok),
  };
}

/** `migrate` with `dryRun`: the backfill's dry run over the plan, and nothing else. */
async function dryRun(
  options: MigrateOptions,
  plan: Plan,
  schemas: readonly string[],
  inferred: MigrateResult['inferred'],
): Promise<MigrateResult> {
  options.onStep?.('backfill');
  const summary = await backfill({
    source: options.source,
    plan,
    schemas,
    command: 'migrate',
    ...options.backfill,
    dryRun: true,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onBackfillProgress ? { onProgress: options.onBackfillProgress } : {}),
  });
  return {
    plan,
    ...(inferred ? { inferred } : {}),
    schema: { written: [], applied: {} },
    backfill: summary,
    dryRun: true,
    verify: [],
    ok: summary.ok,
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
