import { FerryError } from '../core/errors.js';
import type { LocatedExport } from '../export/export-manifest.js';
import type { FileChecksum } from '../export/file-checksum.js';
import { EncodeWorkers } from '../load/encode-workers.js';
import type { Plan } from '../mapping/model.js';
import type { Source } from '../sources/types.js';
import type { TargetDatabase } from '../target/target-database.js';
import { samplePredicate } from './buckets.js';
import { countCheck } from './count-check.js';
import { deepCheck } from './deep-check.js';
import { checkIndexParity } from './index-parity.js';
import { manifestCheck } from './manifest-check.js';
import { runReconcileChecks } from './reconcile.js';
import type { ReconcileCheck } from './reconcile-config.js';
import { SourceHashWorkers, type SourceHashWorkersOptions } from './source-hash-workers.js';
import { TargetHashThread } from './target-hash-thread.js';
import type { CollectionVerifyResult, VerifyLevel, VerifyResult } from './types.js';
import { verifyVerdict } from './verdict.js';
import { ensureVerifyState, finishVerifyRun, recordCollection, startVerifyRun } from './verify-runs.js';

/** Collections a deep check verifies at once when the target side runs on threads (as the backfill loads two). */
const DEFAULT_PARALLEL = 2;

/** The share of documents the `sample` level compares unless told otherwise. */
export const DEFAULT_SAMPLE_FRACTION = 0.1;

/**
 * Everything `verify` needs; the source and target come in open and stay open.
 *
 * @example
 * declare const source: Source;
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await verify({ source, db, plan, schema: 'public', level: 'deep', only: ['orders'], showValues: true });
 */
export interface VerifyOptions {
  readonly source: Source;
  readonly db: TargetDatabase;
  readonly plan: Plan;
  /** The target schema holding the collection tables (default `public`). */
  readonly schema?: string;
  /** Default `deep`. */
  readonly level?: VerifyLevel;
  /** Only these collections (default: every collection of the plan). */
  readonly only?: readonly string[];
  /** `sample` level: the share of documents compared, in (0, 1] (default 0.1). */
  readonly fraction?: number;
  /** `sample` level: picks the sample; default a random one, reported in the result. */
  readonly seed?: number;
  readonly showValues?: boolean;
  readonly maxDifferences?: number;
  /** Reconciliation checks from the config. */
  readonly checks?: readonly ReconcileCheck[];
  /** The source as the user gave it, unredacted: reconciliation connects to it (a `mongodb://` URI). */
  readonly sourceUri?: string;
  /**
   * Count documents the backfill rejected as acceptable (`ok` with the verdict `incomplete`).
   * Default false: a rejected document is missing data, so the run is not `ok`.
   */
  readonly acceptRejects?: boolean;
  /**
   * The source is this Ferry export (`source` reads its files). At level `deep`, each
   * collection's target buckets are compared with the manifest's sums instead of re-reading
   * the exported documents (manifest-check.ts); without `only`, the exported collections are
   * verified.
   */
  readonly export?: LocatedExport;
  /** With `export`: read and hash every exported document again, as for any other source. */
  readonly reread?: boolean;
  /** Record the run in `ferry.verify_runs` (default true). */
  readonly record?: boolean;
  /** Continue the latest unfinished run of this schema and level. */
  readonly resume?: boolean;
  readonly batchSize?: number;
  /**
   * The PostgreSQL URL `db` was opened from, unredacted (none for the embedded target). With
   * it, levels deep and sample read and rebuild the target's documents on worker threads with
   * their own connections, beside the source's hashing; without it, on the calling thread.
   */
  readonly targetUrl?: string;
  /**
   * With `targetUrl`: the threads that read, rebuild and hash the target's documents (default
   * 2), each with its own connection; each collection's rows are cut among them by key range.
   */
  readonly parallel?: number;
  /** Threads that hash the source's BSON at levels deep and sample (default: one less than the cores). */
  readonly hashThreads?: SourceHashWorkersOptions;
  readonly signal?: AbortSignal;
  readonly onProgress?: (update: { collection: string; phase: string; documents: number }) => void;
}

/**
 * Refuse a sample fraction outside (0, 1] at the `sample` level (a usage error), so a caller
 * that verifies at the end of long work (`migrate`) can refuse it before the work starts.
 *
 * @example
 * checkSampleFraction('sample', 1.5)   // throws VERIFY_BAD_FRACTION
 */
export function checkSampleFraction(level: VerifyLevel | 'none', fraction: number): void {
  if (level === 'sample' && !(fraction > 0 && fraction <= 1))
    throw new FerryError(`--fraction must be in (0, 1], got ${fraction}`, {
      code: 'VERIFY_BAD_FRACTION',
      category: 'usage',
    });
}

/**
 * Prove the target holds what the source holds (DESIGN.md "verify"), collection by
 * collection, at one of three levels:
 * - `count`: source count = root rows + open rejects, and child-table row counts;
 * - `deep`: every document compared by canonical hash, differences narrowed to single
 *   documents and field paths (deep-check.ts);
 * - `sample`: the deep check on a seeded sample of `_id`s.
 * Then the config's reconciliation checks and index parity. Each finished collection is
 * recorded in `ferry.verify_runs` at once, so `resume` skips it after a crash.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const source: Source;
 * const result = await verify({ source, db, plan, schema: 'public' });
 * if (!result.ok) process.exitCode = 1;
 */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now();
  const schema = options.schema ?? 'public';
  const level = options.level ?? 'deep';
  const names = selectCollections(
    options.plan,
    options.only ?? (options.export === undefined ? undefined : [...options.export.collections.keys()]),
  );
  const fraction = options.fraction ?? DEFAULT_SAMPLE_FRACTION;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  checkSampleFraction(level, fraction);

  const record = options.record !== false;
  if (record) await ensureVerifyState(options.db);
  const run = record
    ? await startVerifyRun(options.db, {
        schema,
        level,
        ...(options.resume !== undefined && { resume: options.resume }),
        options: { only: names, ...(level === 'sample' && { fraction, seed }) },
      })
    : undefined;

  const sourceHashers = level === 'count' ? undefined : new SourceHashWorkers(options.hashThreads);
  const encoders = level === 'count' ? new EncodeWorkers(options.plan) : undefined;
  const targetThreads =
    level !== 'count' && options.targetUrl !== undefined && options.targetUrl.trim() !== ''
      ? Array.from(
          { length: Math.max(1, options.parallel ?? DEFAULT_PARALLEL) },
          () => new TargetHashThread(options.plan, options.targetUrl!),
        )
      : [];
  const sample = level === 'sample' ? samplePredicate(fraction, seed) : undefined;
  const exportChecksums = new Map<string, Promise<FileChecksum>>();
  const results = new Map<string, CollectionVerifyResult>();
  const unchecked = names.filter((name) => {
    const done = run?.collections[name];
    if (done !== undefined) results.set(name, done);
    return done === undefined;
  });
  // One collection at a time, its target side cut among every target thread by key range:
  // checking collections side by side, a thread per collection, left one thread alone with
  // the biggest collection at the end (and alone with a single-collection plan throughout).
  try {
    for (const collection of unchecked) {
      const result = await checkCollection(options, {
        collection,
        schema,
        level,
        sample,
        sourceHashers,
        encoders,
        targetThreads,
        exportChecksums,
      });
      if (run !== undefined) await recordCollection(options.db, run.id, result);
      results.set(collection, result);
    }
  } finally {
    await sourceHashers?.close();
    await encoders?.close();
    await Promise.all(targetThreads.map((t) => t.close()));
  }
  const collections = names.map((name) => results.get(name)!);

  const reconciliation = await runReconcileChecks(options.checks ?? [], options.sourceUri, options.db);
  const indexes = await checkIndexParity(options.plan, names, schema, options.source, options.db);
  const acceptRejects = options.acceptRejects === true;
  const { verdict, rejected } = verifyVerdict(
    collections,
    reconciliation.some((r) => r.status === 'mismatch'),
  );
  const result: VerifyResult = {
    ...(run !== undefined && { runId: run.id }),
    level,
    schema,
    ...(level === 'sample' && { fraction, seed }),
    collections,
    reconciliation,
    indexes,
    verdict,
    rejected,
    acceptRejects,
    ok: verdict === 'complete' || (verdict === 'incomplete' && acceptRejects),
    seconds: (performance.now() - started) / 1000,
  };
  if (run !== undefined) await finishVerifyRun(options.db, run.id, result);
  return result;
}

/** One collection at the run's level: the count check, or the deep check (of a sample). */
function checkCollection(
  options: VerifyOptions,
  at: {
    readonly collection: string;
    readonly schema: string;
    readonly level: VerifyLevel;
    readonly sample: ((idHash: bigint) => boolean) | undefined;
    readonly sourceHashers: SourceHashWorkers | undefined;
    readonly encoders: EncodeWorkers | undefined;
    readonly targetThreads: readonly TargetHashThread[];
    readonly exportChecksums: Map<string, Promise<FileChecksum>>;
  },
): Promise<CollectionVerifyResult> {
  const { collection } = at;
  const common = {
    source: options.source,
    db: options.db,
    plan: options.plan,
    collection,
    schema: at.schema,
    ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    ...(options.signal !== undefined && { signal: options.signal }),
  };
  if (at.level === 'count')
    return countCheck({
      ...common,
      ...(at.encoders !== undefined && { encoders: at.encoders }),
      onProgress: (documents) => options.onProgress?.({ collection, phase: 'count', documents }),
    });
  const deep = {
    ...common,
    ...(at.sample !== undefined && { sample: at.sample }),
    ...(options.showValues !== undefined && { showValues: options.showValues }),
    ...(options.maxDifferences !== undefined && { maxDifferences: options.maxDifferences }),
    ...(at.sourceHashers !== undefined && { sourceHashers: at.sourceHashers }),
    targetThreads: at.targetThreads,
    onProgress: (phase: string, documents: number) => options.onProgress?.({ collection, phase, documents }),
  };
  if (at.level === 'deep' && options.export !== undefined)
    return manifestCheck({
      ...deep,
      export: options.export,
      checksums: at.exportChecksums,
      ...(options.reread !== undefined && { reread: options.reread }),
    });
  return deepCheck(deep);
}

/**
 * The plan's collections that `--only` names, in plan order (all of them without `--only`);
 * a name the plan does not have is a usage error listing the ones it has.
 *
 * @example
 * declare const plan: Plan;
 * selectCollections(plan, ['orders'])   // ['orders']
 */
export function selectCollections(plan: Plan, only: readonly string[] | undefined): string[] {
  const all = plan.collections.map((c) => c.name);
  if (only === undefined || only.length === 0) return all;
  const unknown = only.filter((n) => !all.includes(n));
  if (unknown.length > 0)
    throw new FerryError(`--only names collections the mapping does not have: ${unknown.join(', ')}`, {
      code: 'VERIFY_UNKNOWN_COLLECTION',
      category: 'usage',
      hint: `the mapping has: ${all.join(', ')}`,
    });
  return all.filter((n) => only.includes(n));
}
