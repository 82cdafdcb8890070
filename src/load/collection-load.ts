import { asFerryError } from '../core/errors.js';
import { type CollectionPlan, type Plan, quoteIdent } from '../mapping/model.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import type { Source } from '../sources/types.js';
import { withRetry } from '../target/retry.js';
import type { TargetDatabase } from '../target/target-database.js';
import { columnTypesMatch } from './binary-guard.js';
import { type Chunk, prepareChunks } from './chunk.js';
import { advance, type CollectionPhase } from './collection-phase.js';
import type { EncodeWorkers } from './encode-workers.js';
import { rejectSample } from './reject-record.js';
import { listRejects } from './rejects.js';
import { retryFromSource } from './retry-from-source.js';
import { type AfterLoadProblem, finishSchema } from './schema-setup.js';
import { advanceCheckpoint, type Checkpoint, positionToJson, readCheckpoint } from './state-store.js';
import { type TableTarget, tableTargets, type WriteMode } from './table-writer.js';
import type { BackfillProgress, CollectionSummary, RejectSample } from './types.js';
import { writeChunk } from './write-chunk.js';

/** Everything a collection's load needs from the run around it. */
export interface CollectionLoadContext {
  readonly db: TargetDatabase;
  readonly source: Source;
  readonly plan: Plan;
  readonly transforms: TransformRegistry | undefined;
  readonly schemas: readonly string[];
  readonly batchSize: number;
  readonly runId: number;
  readonly signal: AbortSignal;
  readonly total: number | undefined;
  readonly onProgress: ((progress: BackfillProgress) => void) | undefined;
  /** Encoding threads for BSON frames, when the plan has no transforms. */
  readonly workers: EncodeWorkers | undefined;
  /** Send tables that allow it in binary COPY format. */
  readonly binaryCopy: boolean;
  /** Count rejects of a committed chunk; false when the run's limit is now exceeded. */
  readonly noteRejects: (schema: string, count: number) => boolean;
  readonly afterLoadProblems: AfterLoadProblem[];
}

/** Thrown inside the loop when the run must stop without an error of this collection. */
class Stop {
  constructor(readonly reason: 'aborted' | 'rejects') {}
}

/** One schema's bookkeeping while its collection loads. */
interface SchemaLoad {
  readonly schema: string;
  readonly tables: readonly TableTarget[];
  readonly mode: WriteMode;
  checkpoint: Checkpoint;
  run: { read: number; migrated: number; rejected: number };
  rows: Map<string, number>;
  samples: RejectSample[];
}

const MAX_SAMPLES = 20;

/**
 * Load one collection into every schema, walking the phases of collection-phase.ts. Returns
 * one summary per schema; never throws for a failure of this collection (it is reported as
 * `failed` with its error), so the other collections of the run go on.
 *
 * Schemas whose checkpoints stand at the same position share one read of the source; each
 * chunk is then committed once per schema, in its own transaction. Schemas at different
 * positions (one was interrupted, one was not) read separately.
 *
 * @example
 * declare const plan: Plan;
 * declare const context: CollectionLoadContext;
 * const [app, appTest] = await loadCollection(context, plan.collections[0]!);
 */
export async function loadCollection(
  context: CollectionLoadContext,
  collection: CollectionPlan,
): Promise<readonly CollectionSummary[]> {
  const started = Date.now();
  let phase: CollectionPhase = 'checking';
  const loads: SchemaLoad[] = [];
  let error: CollectionSummary['error'];
  let reread: CollectionSummary['reread'];
  try {
    for (const schema of context.schemas) {
      const tables = tableTargets(collection, schema);
      const checkpoint = await readCheckpoint(context.db, schema, collection.name);
      const mode = (await hasRows(context.db, schema, tables[0]!.name)) ? 'upsert' : 'copy';
      loads.push({
        schema,
        tables,
        mode,
        checkpoint,
        run: { read: 0, migrated: 0, rejected: 0 },
        rows: new Map(),
        samples: [],
      });
    }
    const pending = loads.filter((l) => !l.checkpoint.complete);
    if (pending.length === 0) {
      phase = advance(phase, 'up-to-date');
    } else {
      phase = advance(phase, 'loading');
      // One encoding serves every schema, so binary only if every schema's tables take it.
      let binary = context.binaryCopy;
      for (const load of pending) binary &&= await columnTypesMatch(context.db, load.schema, collection);
      for (const group of groupByPosition(pending)) {
        await loadGroup(context, collection, group, binary);
      }
      phase = advance(phase, 'completing');
      for (const load of pending) {
        await context.db.transaction((tx) =>
          advanceCheckpoint(tx, load.schema, collection.name, {
            position: undefined,
            read: 0,
            migrated: 0,
            rejected: 0,
            complete: true,
            runId: context.runId,
          }),
        );
        load.checkpoint = { ...load.checkpoint, complete: true };
      }
      phase = advance(phase, 'after-load');
      for (const load of pending) {
        const touched = new Set([...load.rows].filter(([, n]) => n > 0).map(([t]) => t));
        const { problems } = await finishSchema(
          context.db,
          context.plan,
          load.schema,
          (c) => c === collection.name,
          touched,
        );
        context.afterLoadProblems.push(...problems);
      }
      phase = advance(phase, 'done');
    }
    reread = await rereadReadRejects(context, collection.name);
    if (reread !== undefined)
      for (const load of loads)
        load.checkpoint = await readCheckpoint(context.db, load.schema, collection.name);
  } catch (caught) {
    if (caught instanceof Stop) phase = 'stopped';
    else if (context.signal.aborted) phase = 'stopped';
    else {
      phase = 'failed';
      const ferryError = asFerryError(caught);
      error = { code: ferryError.code, message: ferryError.message, category: ferryError.category };
    }
  }
  const durationMs = Date.now() - started;
  const first = loads[0];
  // An up-to-date collection did nothing; a progress line would only show a meaningless rate.
  if (first !== undefined && phase !== 'up-to-date')
    context.onProgress?.({ collection: collection.name, phase, ...totals(first), ...total(context) });
  return loads.map((load) => ({
    collection: collection.name,
    schema: load.schema,
    phase,
    ...totals(load),
    run: { ...load.run },
    rows: Object.fromEntries(load.tables.map((t) => [t.name, load.rows.get(t.name) ?? 0])),
    durationMs,
    docsPerSecond: Math.round(load.run.read / Math.max(durationMs / 1000, 0.001)),
    rejectSamples: load.samples,
    ...(reread === undefined ? {} : { reread }),
    ...(error === undefined ? {} : { error }),
  }));
}

/**
 * Documents earlier runs could not read (a line that was not JSON, a damaged BSON document)
 * are read again on every later run, since the user may have fixed the source: the checkpoint
 * is past them, so nothing else would. The source is only read when such rejects exist.
 */
async function rereadReadRejects(
  context: CollectionLoadContext,
  collection: string,
): Promise<CollectionSummary['reread']> {
  const filter = {
    collection,
    schemas: context.schemas,
    stages: ['read' as const],
    beforeRun: context.runId,
  };
  if ((await listRejects(context.db, { ...filter, limit: 1 })).length === 0) return undefined;
  const result = await retryFromSource(context.db, context.plan, context.source, filter, {
    ...(context.transforms === undefined ? {} : { transforms: context.transforms }),
    signal: context.signal,
  });
  return {
    resolved: result.resolved.length,
    stillRejected: result.stillRejected.length + result.notInSource.length,
  };
}

/** Read the source once from the group's common position and commit each chunk per schema. */
async function loadGroup(
  context: CollectionLoadContext,
  collection: CollectionPlan,
  group: readonly SchemaLoad[],
  binary: boolean,
): Promise<void> {
  const after = group[0]!.checkpoint.position;
  const batches = context.source.read(collection.name, {
    batchSize: context.batchSize,
    signal: context.signal,
    // BSON sources hand over bytes, which the fast path encodes without decoding (chunk-encoder.ts).
    raw: true,
    ...(after === undefined ? {} : { after }),
  });
  for await (const chunk of prepareChunks(context.plan, batches, {
    ...(context.transforms === undefined ? {} : { transforms: context.transforms }),
    ...(context.workers === undefined ? {} : { workers: context.workers }),
    binary,
  })) {
    let withinLimit = true;
    for (const load of group) {
      if (context.signal.aborted) throw new Stop('aborted');
      withinLimit = (await commitChunk(context, collection, load, chunk)) && withinLimit;
    }
    context.onProgress?.({
      collection: collection.name,
      phase: 'loading',
      ...totals(group[0]!),
      ...total(context),
    });
    if (!withinLimit) throw new Stop('rejects');
  }
}

async function commitChunk(
  context: CollectionLoadContext,
  collection: CollectionPlan,
  load: SchemaLoad,
  chunk: Chunk,
): Promise<boolean> {
  const target = {
    schema: load.schema,
    collection: collection.name,
    tables: load.tables,
    mode: load.mode,
    runId: context.runId,
    before: totals(load),
  };
  // The whole transaction is retried on a transient failure: it is all-or-nothing, so a
  // retry writes the chunk exactly once. `before` covers the one case where all-or-nothing is
  // not enough: a COMMIT that went through while its answer was lost.
  const result = await withRetry(() => context.db.transaction((tx) => writeChunk(tx, target, chunk)), {
    signal: context.signal,
  });
  load.run.read += chunk.read;
  load.run.migrated += result.migrated;
  load.run.rejected += result.rejected;
  for (const [table, n] of result.rows) load.rows.set(table, (load.rows.get(table) ?? 0) + n);
  for (const reject of [...chunk.rejects, ...result.loadRejects]) {
    if (load.samples.length >= MAX_SAMPLES) break;
    load.samples.push(rejectSample(reject));
  }
  return context.noteRejects(load.schema, result.rejected);
}

function totals(load: SchemaLoad): { read: number; migrated: number; rejected: number } {
  return {
    read: load.checkpoint.read + load.run.read,
    migrated: load.checkpoint.migrated + load.run.migrated,
    rejected: load.checkpoint.rejected + load.run.rejected,
  };
}

function total(context: CollectionLoadContext): { total?: number } {
  return context.total === undefined ? {} : { total: context.total };
}

function groupByPosition(loads: readonly SchemaLoad[]): SchemaLoad[][] {
  const groups = new Map<string, SchemaLoad[]>();
  for (const load of loads) {
    const position = load.checkpoint.position;
    const key = position === undefined ? '' : JSON.stringify(positionToJson(position));
    groups.set(key, [...(groups.get(key) ?? []), load]);
  }
  return [...groups.values()];
}

async function hasRows(db: TargetDatabase, schema: string, table: string): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `select exists (select 1 from ${quoteIdent(schema)}.${quoteIdent(table)}) as found`,
  );
  return rows[0]?.found === true;
}
