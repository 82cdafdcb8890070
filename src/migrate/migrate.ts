import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { configSourcePath } from '../config/source-path.js';
import { FerryError } from '../core/errors.js';
import { fileExists } from '../core/file-exists.js';
import type { CollectProgress } from '../infer/collect-stats.js';
import { type InferredMapping, inferMapping } from '../infer/infer-mapping.js';
import type { InferenceReport } from '../infer/report.js';
import { renderConfig } from '../infer/write-config.js';
import { backfill, resetCollections } from '../load/backfill.js';
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
import { type BeyondSample, findBeyondSample } from './sample-check.js';

/**
 * Documents per collection `migrate` infers its mapping from when it has none: the first
 * 10,000, with every later `_id` noted from the undecoded BSON. Reading and analysing every
 * document took half of a migrate's time; the load that follows sees every document anyway,
 * and `findBeyondSample` checks afterwards that none held what the sample did not foresee.
 */
export const MIGRATE_INFER_SAMPLE = 10_000;

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
  /**
   * Infer from the first N documents of each collection (default `MIGRATE_INFER_SAMPLE`),
   * noting every later `_id` for references. The load is then checked against the sample
   * (see `MigrateResult.widened`), so a sample never costs exactness.
   */
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
  /**
   * Present when the mapping was inferred in this run. `sampled`: collections whose mapping
   * came from their first documents only (checked against the whole load afterwards).
   */
  readonly inferred?: {
    readonly report: InferenceReport;
    readonly configFile?: string;
    readonly sampled: readonly string[];
  };
  /**
   * The sampled mapping did not fit every document: the values it left untyped (in `_extra`,
   * lost nowhere), after which the mapping was inferred again from every document, written
   * over the proposed config, and the collections it changed were reloaded.
   */
  readonly widened?: { readonly beyondSample: readonly BeyondSample[]; readonly reloaded: readonly string[] };
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
  const level = options.verify ?? 'deep';
  checkSampleFraction(level, options.verifyOptions?.fraction ?? DEFAULT_SAMPLE_FRACTION);
  let plan: Plan;
  let inferred: MigrateResult['inferred'];
  if (options.mapping) {
    plan = parsePlan(options.mapping);
  } else {
    options.onStep?.('infer');
    const proposal = await inferMapping(options.source, {
      sample: options.sample ?? MIGRATE_INFER_SAMPLE,
      sampleMode: 'first-then-ids',
      ...inferOptions(options),
    });
    plan = proposal.plan;
    const configFile = options.dryRun
      ? undefined
      : await writeProposal(options.configFile, proposalText(options, proposal));
    inferred = {
      report: proposal.report,
      ...(configFile ? { configFile } : {}),
      sampled: proposal.snapshot.collections.filter((c) => !c.complete).map((c) => c.name),
    };
  }
  if (options.dryRun === true) return dryRun(options, plan, schemas, inferred);
  const target = options.target;
  if (target === undefined)
    throw new FerryError('migrate needs a target database', { code: 'LOAD_NO_TARGET', category: 'usage' });

  let loaded = await schemaAndBackfill(options, target, plan, schemas, false);
  const written = [...loaded.written];
  const applied = new Map(schemas.map((s) => [s, [...(loaded.beforeLoad.get(s) ?? [])]]));
  const finish = async () => {
    options.onStep?.('finish');
    // The backfill already created what it needed after each collection; the after-load file
    // is idempotent, and applying it records it in ferry.migrations so `schema check` is clean.
    const afterLoad = await applyMigrations(
      target,
      await readMigrationFiles(migrationsDirOf(options)),
      schemas,
    );
    for (const [schema, versions] of afterLoad) applied.get(schema)?.push(...versions);
  };
  await finish();
  let widened: MigrateResult['widened'];
  const sampled = inferred?.sampled ?? [];
  const firstSchema = schemas[0];
  if (sampled.length > 0 && firstSchema !== undefined && loaded.summary.collections.every((c) => !c.error)) {
    // Every schema holds the same rows, so one is enough to check the sample against.
    const beyondSample = await findBeyondSample(target, plan, firstSchema, sampled);
    if (beyondSample.length > 0) {
      // The sample missed something: infer again from every document, which is exactly what
      // a migrate without a sample does, and load again what that mapping changes.
      options.onStep?.('infer');
      const full = await inferMapping(options.source, inferOptions(options));
      const changed = changedCollections(plan, full.plan);
      // Emptied first, so the schema change never meets rows of the sampled mapping (a NOT
      // NULL or a new type that they would break), and the load finds them to do.
      const model = buildSchema(plan);
      for (const schema of schemas) {
        await dropIncomingKeys(target, model, schema, changed);
        await resetCollections(target, plan, schema, changed);
      }
      plan = full.plan;
      const configFile = inferred?.configFile;
      if (configFile !== undefined) await writeFile(configFile, proposalText(options, full));
      inferred = { report: full.report, ...(configFile ? { configFile } : {}), sampled: [] };
      loaded = await schemaAndBackfill(options, target, plan, schemas, true);
      written.push(...loaded.written);
      for (const [schema, versions] of loaded.beforeLoad) applied.get(schema)?.push(...versions);
      await finish();
      widened = { beyondSample, reloaded: changed };
    }
  }
  const summary = loaded.summary;

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
    ...(widened ? { widened } : {}),
    schema: { written: written.map((f) => f.file), applied: Object.fromEntries(applied) },
    backfill: summary,
    dryRun: false,
    verify: verified,
    ok: summary.ok && verified.every((v) => v.ok),
  };
}

/** The schema step (before-load half) and the backfill, for a plan. */
async function schemaAndBackfill(
  options: MigrateOptions,
  target: TargetDatabase,
  plan: Plan,
  schemas: readonly string[],
  widening: boolean,
): Promise<{
  written: readonly { file: string }[];
  beforeLoad: ReadonlyMap<string, readonly number[]>;
  summary: BackfillSummary;
  reloaded: readonly string[];
}> {
  options.onStep?.('schema');
  const force = options.backfill?.force === true;
  let reload: readonly string[] = [];
  const evolved = await evolveSchema({
    db: target,
    dir: migrationsDirOf(options),
    model: buildSchema(plan),
    schemas,
    until: 'before-load',
    confirm: async (evolution) => {
      await options.onSchemaPlan?.(evolution);
      // `force` reloads everything anyway, so it is also consent to re-create tables; so is
      // widening a sampled mapping, whose tables this same run created and loaded.
      if (evolution.destructive.length > 0 && !force && !widening)
        throw destructiveChange(evolution.destructive);
      reload = evolution.reloads.map((r) => r.collection);
    },
  });

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
  return { written: evolved.written, beforeLoad: evolved.applied, summary, reloaded: reload };
}

/** Collections whose mapping differs between two plans (or that only one of them has). */
function changedCollections(before: Plan, after: Plan): string[] {
  const text = (plan: Plan, name: string) => JSON.stringify(plan.collections.find((c) => c.name === name));
  const names = new Set([...before.collections, ...after.collections].map((c) => c.name));
  return [...names].filter((name) => text(before, name) !== text(after, name)).sort();
}

function migrationsDirOf(options: MigrateOptions): string {
  return options.migrationsDir ?? 'migrations';
}

function inferOptions(options: MigrateOptions) {
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onInferProgress ? { onProgress: options.onInferProgress } : {}),
  };
}

function proposalText(options: MigrateOptions, proposal: InferredMapping): string {
  return renderConfig(proposal.plan, proposal.report, {
    source:
      options.configFile === undefined
        ? options.sourceLocation
        : configSourcePath(options.sourceLocation, options.configFile),
  });
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
