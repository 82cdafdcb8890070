import type { ErrorCategory } from '../core/errors.js';
import type { Plan } from '../mapping/model.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import type { Source } from '../sources/types.js';
import type { TargetDatabase } from '../target/target-database.js';
import type { CollectionPhase } from './collection-phase.js';
import type { EncodeWorkersOptions } from './encode-workers.js';
import type { ColumnMisfit } from './misfits.js';
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
  /**
   * How many rejected documents still count as success (default 0: any reject makes `ok`
   * false). Once this run rejects more than this, the run also stops.
   */
  readonly maxRejects?: number;
  /**
   * A typed column that sends values to `_extra` (see `misfits`) makes the run fail instead
   * of warning (`--strict`).
   */
  readonly strict?: boolean;
  /** Empty the tables, checkpoints and rejects of the collections first, then load all. */
  readonly force?: boolean;
  /**
   * Collections to empty (tables, checkpoints, rejects) and load again even without `force`:
   * the ones a schema change left with rows that do not fill the new columns.
   */
  readonly reload?: readonly string[];
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
   * format (default true; only into a target whose `capabilities.binaryCopy` says so): PostgreSQL then skips parsing text.
   */
  readonly binaryCopy?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BackfillProgress) => void;
}

/**
 * Reported after every committed chunk (and once when a collection ends).
 *
 * @example
 * declare const source: Source;
 * declare const target: TargetDatabase;
 * declare const plan: Plan;
 * await backfill({ source, target, plan, onProgress: (p: BackfillProgress) => console.log(p.collection, p.read, p.total) });
 */
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
  /** Where in the source (read rejects): file, line (JSON) and byte offset; null when unknown. */
  readonly file: string | null;
  readonly line: number | null;
  readonly offset: number | null;
}

/**
 * One collection in one target schema at the end of a run.
 *
 * @example
 * declare const summary: BackfillSummary;
 * for (const c of summary.collections) console.log(c.collection, c.schema, c.migrated, c.rejected);
 */
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
  /**
   * Documents an earlier run rejected at the read stage, read from the source again (it may
   * have been fixed since): how many now loaded, and how many are still rejected.
   */
  readonly reread?: { readonly resolved: number; readonly stillRejected: number };
  /** Why the collection failed; `category` decides the exit code (bad input 2, environment 3). */
  readonly error?: { readonly code: string; readonly message: string; readonly category: ErrorCategory };
}

/**
 * What `backfill` returns, and what `ferry backfill --json` prints.
 *
 * @example
 * declare const source: Source;
 * declare const target: TargetDatabase;
 * declare const plan: Plan;
 * const summary = await backfill({ source, target, plan });
 * if (!summary.ok) process.exitCode = 1;
 */
export interface BackfillSummary {
  readonly runId: number | undefined;
  readonly dryRun: boolean;
  readonly schemas: readonly string[];
  readonly collections: readonly CollectionSummary[];
  /** Source collections the plan does not map: not loaded, said out loud. */
  readonly unmapped: readonly string[];
  readonly afterLoad: { readonly ran: readonly string[]; readonly problems: readonly AfterLoadProblem[] };
  /** More documents were rejected in this run than `maxRejects` allowed; the run stopped. */
  readonly rejectsOverLimit: boolean;
  /**
   * Documents of these collections that are rejected and not loaded, over every run (the
   * checkpoints): accounted for, but missing from the target. Counted once per document
   * even when several schemas get the same data.
   */
  readonly rejected: number;
  /** How many rejects the caller tolerated (`maxRejects`, default 0). */
  readonly rejectsTolerated: number;
  /**
   * Typed columns that could not hold some values of their field, so those values went to
   * `_extra` (misfits.ts): a warning, or with `strict` a failure. Empty on a dry run.
   */
  readonly misfits: readonly ColumnMisfit[];
  /** The run was `strict`: misfits fail it. */
  readonly strict: boolean;
  /** Nothing was written to any table (a re-run with nothing new). */
  readonly wroteNothing: boolean;
  /**
   * True when every collection ended `done` or `up-to-date`, nothing after the load failed,
   * no more documents are rejected than `maxRejects` tolerates (DESIGN.md invariant 2: no
   * success over missing data), and with `strict` no column has misfits.
   */
  readonly ok: boolean;
  readonly durationMs: number;
}
