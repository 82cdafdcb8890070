import type { Plan } from '../mapping/model.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import type { Source } from '../sources/types.js';
import type { TargetDatabase } from '../target/target-database.js';
import type { CollectionPhase } from './collection-phase.js';
import type { EncodeWorkersOptions } from './encode-workers.js';
import type { RejectStage } from './reject-record.js';
import type { AfterLoadProblem } from './schema-setup.js';

/**
 * Documents per chunk (one transaction per chunk and schema) unless `--batch-size` says
 * otherwise. Chunks are held as encoded COPY text, a few MB at this size, and bigger chunks
 * amortise each transaction's statements: 5000 loads the benchmark's marketplace about 10%
 * faster than 1000 (docs/benchmarks.md), and a crash repeats at most one chunk.
 */
export const DEFAULT_BATCH_SIZE = 5000;

/**
 * Options of `backfill`. Only `source`, `plan` and (unless `dryRun`) `target` are required.
 *
 * @example
 * declare const plan: Plan;
 * declare const source: Source;
 * declare const target: TargetDatabase;
 * const summary = await backfill({ source, target, plan, schemas: ['app'], batchSize: 1000 });
 */
export interface BackfillOptions {
  readonly source: Source;
  /** Where to load; not touched (nor needed) with `dryRun`. */
  readonly target?: TargetDatabase;
  readonly plan: Plan;
  readonly transforms?: TransformRegistry;
  /** Target schemas, each getting the same data (default `['public']`). */
  readonly schemas?: readonly string[];
  /** Load only these collections of the plan (default all). */
  readonly only?: readonly string[];
  /** Documents per chunk; a chunk is one transaction per schema (default `DEFAULT_BATCH_SIZE`). */
  readonly batchSize?: number;
  /** Collections loaded at once, each on its own connection (default 1). */
  readonly parallel?: number;
  /** Stop (and report a problem) once more documents than this were rejected in this run. */
  readonly maxRejects?: number;
  /** Empty the tables, checkpoints and rejects of the collections first, then load all. */
  readonly force?: boolean;
  /** Read and transform everything, count and collect rejects, write nothing anywhere. */
  readonly dryRun?: boolean;
  /** What to record in `ferry.runs` (default `backfill`). */
  readonly command?: string;
  /**
   * Threads that encode BSON documents while this one talks to PostgreSQL (encode-workers.ts);
   * default: one less than the cores, after a few batches. `{ threads: 0 }` encodes in this thread.
   */
  readonly encodeWorkers?: EncodeWorkersOptions;
  /**
   * Send the rows of tables whose columns all have a binary form in PostgreSQL's binary COPY
   * format (default true; a `pg` target only): PostgreSQL then skips parsing text.
   */
  readonly binaryCopy?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BackfillProgress) => void;
}

/** Reported after every committed chunk (and once when a collection ends). */
export interface BackfillProgress {
  readonly collection: string;
  readonly phase: CollectionPhase;
  /** Documents read so far, counting earlier runs (the checkpoint). */
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
  /** The source's estimate of the collection's size, when it has one. */
  readonly total?: number;
}

/** A reject as summaries show it (the document itself stays in `ferry.rejects`). */
export interface RejectSample {
  readonly id: string | null;
  readonly stage: RejectStage;
  readonly code: string;
  readonly reason: string;
}

/** One collection in one target schema at the end of a run. */
export interface CollectionSummary {
  readonly collection: string;
  readonly schema: string;
  readonly phase: CollectionPhase;
  /** Totals over every run (the checkpoint): `migrated + rejected = read` always. */
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
  /** This run alone. */
  readonly run: { readonly read: number; readonly migrated: number; readonly rejected: number };
  /** Rows written in this run, per table (root and child tables). */
  readonly rows: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly docsPerSecond: number;
  /** Up to 20 of this run's rejects. */
  readonly rejectSamples: readonly RejectSample[];
  readonly error?: { readonly code: string; readonly message: string };
}

/** What `backfill` returns, and what `ferry backfill --json` prints. */
export interface BackfillSummary {
  readonly runId: number | undefined;
  readonly dryRun: boolean;
  readonly schemas: readonly string[];
  readonly collections: readonly CollectionSummary[];
  /** Source collections the plan does not map: not loaded, said out loud. */
  readonly unmapped: readonly string[];
  readonly afterLoad: { readonly ran: readonly string[]; readonly problems: readonly AfterLoadProblem[] };
  /** More documents were rejected than `maxRejects` allowed; the run stopped. */
  readonly rejectsOverLimit: boolean;
  /** Nothing was written to any table (a re-run with nothing new). */
  readonly wroteNothing: boolean;
  /** True when every collection ended `done` or `up-to-date` and nothing after the load failed. */
  readonly ok: boolean;
  readonly durationMs: number;
}
