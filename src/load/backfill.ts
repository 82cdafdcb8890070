import { FerryError } from '../core/errors.js';
import type { CollectionPlan, Plan } from '../mapping/model.js';
import { quoteIdent } from '../mapping/model.js';
import { buildSchema } from '../schema/build-schema.js';
import { ensureFerryState } from '../target/ferry-state.js';
import type { TargetDatabase } from '../target/target-database.js';
import { type CollectionLoadContext, loadCollection } from './collection-load.js';
import { dryRunCollection } from './dry-run.js';
import { EncodeWorkers } from './encode-workers.js';
import { type ColumnMisfit, countMisfits } from './misfits.js';
import { type AfterLoadProblem, finishSchema, prepareSchema } from './schema-setup.js';
import { finishRun, startRun } from './state-store.js';
import {
  type BackfillOptions,
  type BackfillSummary,
  type CollectionSummary,
  DEFAULT_BATCH_SIZE,
} from './types.js';

/**
 * Load a source into PostgreSQL through the mapping plan: the engine behind `ferry backfill`,
 * `ferry migrate` and `ferry demo`.
 *
 * 1. Check the inputs; set up schema `ferry` and record the run.
 * 2. `force`: empty the collections' tables, checkpoints and rejects (one transaction per schema).
 * 3. Create what the load writes into (tables, primary keys, parent keys: schema-setup.ts).
 * 4. Load up to `parallel` collections at once (collection-load.ts), each chunk committed with
 *    its checkpoint; a crash loses nothing and duplicates nothing, and the next call resumes.
 * 5. Add the foreign keys between collections once both ends are completely loaded.
 * 6. Count, per typed column, the values that did not fit and went to `_extra` (misfits.ts):
 *    the check `ferry infer --check` makes, made on what was loaded.
 *
 * A failing collection is reported in the summary (`phase: 'failed'`) and the others go on;
 * exceeding `maxRejects` stops the run (`rejectsOverLimit`). Committed work always stays.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const source: Source;
 * const summary = await backfill({ source, target: db, plan, schemas: ['app'], onProgress: console.log });
 * for (const c of summary.collections) console.log(c.collection, c.migrated, c.rejected, c.read);
 */
export async function backfill(options: BackfillOptions): Promise<BackfillSummary> {
  const started = Date.now();
  const schemas = options.schemas ?? ['public'];
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const collections = selectCollections(options);
  const sourceCollections = await options.source.listCollections();
  const known = new Set(sourceCollections.map((c) => c.name));
  const missing = collections.filter((c) => !known.has(c.name));
  if (missing.length > 0)
    throw new FerryError(`the source has no collection ${missing.map((c) => `"${c.name}"`).join(', ')}`, {
      code: 'LOAD_COLLECTION_NOT_IN_SOURCE',
      category: 'input',
      hint: `the source has: ${[...known].join(', ') || 'nothing'}; check the mapping or --only`,
    });
  const mapped = new Set(options.plan.collections.map((c) => c.name));
  const unmapped = sourceCollections.map((c) => c.name).filter((name) => !mapped.has(name));
  const estimates = new Map(sourceCollections.map((c) => [c.name, c.estimatedCount]));
  const base = { dryRun: options.dryRun === true, schemas, unmapped };

  if (options.dryRun === true) {
    const summaries: CollectionSummary[] = [];
    for (const collection of collections) {
      summaries.push(
        ...(await dryRunCollection(options.source, options.plan, collection, schemas, batchSize, {
          ...(options.transforms ? { transforms: options.transforms } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        })),
      );
    }
    const overLimit =
      options.maxRejects !== undefined && summaries.some((s) => s.rejected > options.maxRejects!);
    return summarize({
      ...base,
      runId: undefined,
      started,
      summaries,
      problems: [],
      ran: [],
      overLimit,
      maxRejects: options.maxRejects,
      misfits: [],
      strict: options.strict === true,
    });
  }

  const db = options.target;
  if (db === undefined)
    throw new FerryError('backfill needs a target database', { code: 'LOAD_NO_TARGET', category: 'usage' });
  await ensureFerryState(db);
  const runId = await startRun(db, options.command ?? 'backfill', {
    schemas,
    only: options.only ?? null,
    batchSize,
    parallel: options.parallel ?? 1,
    maxRejects: options.maxRejects ?? null,
    force: options.force === true,
    source: options.source.location,
    // The source's own counts where it gives them (a live server), so a dashboard can show an ETA.
    estimates: Object.fromEntries(
      collections.flatMap((c) => {
        const estimate = estimates.get(c.name);
        return estimate === undefined ? [] : [[c.name, estimate]];
      }),
    ),
  });
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const rejectsBySchema = new Map<string, number>();
  // Transforms are user code, which stays on this thread.
  const workers =
    options.transforms === undefined ? new EncodeWorkers(options.plan, options.encodeWorkers) : undefined;
  let overLimit = false;
  const problems: AfterLoadProblem[] = [];
  const summaries: CollectionSummary[] = [];
  try {
    const names = collections.map((c) => c.name);
    for (const schema of schemas) {
      if (options.force === true) await reset(db, options, schema, names);
      else if (options.reload !== undefined && options.reload.length > 0)
        await reset(
          db,
          options,
          schema,
          names.filter((name) => options.reload!.includes(name)),
        );
      await prepareSchema(db, options.plan, schema, names);
    }
    const contextFor = (name: string): CollectionLoadContext => ({
      db,
      source: options.source,
      plan: options.plan,
      transforms: options.transforms,
      schemas,
      batchSize,
      runId,
      signal,
      total: estimates.get(name),
      onProgress: options.onProgress,
      workers,
      binaryCopy: options.binaryCopy !== false && db.capabilities.binaryCopy,
      afterLoadProblems: problems,
      noteRejects: (schema, count) => {
        const sum = (rejectsBySchema.get(schema) ?? 0) + count;
        rejectsBySchema.set(schema, sum);
        if (options.maxRejects !== undefined && sum > options.maxRejects) {
          overLimit = true;
          stop.abort();
          return false;
        }
        return true;
      },
    });
    const parallel = Math.max(1, options.parallel ?? 1);
    const order = parallel > 1 ? heaviestFirst(collections, estimates) : collections;
    await eachLimited(order, parallel, async (collection) => {
      summaries.push(...(await loadCollection(contextFor(collection.name), collection)));
    });
    const ran: string[] = [];
    const misfits: ColumnMisfit[] = [];
    if (!signal.aborted) {
      for (const schema of schemas) {
        const complete = await completeCollections(db, schema);
        const after = await finishSchema(db, options.plan, schema, (c) => complete.has(c), new Set());
        ran.push(...after.ran);
        problems.push(...after.problems);
        misfits.push(...(await countMisfits(db, options.plan, schema, names)));
      }
    }
    const summary = summarize({
      ...base,
      runId,
      started,
      summaries,
      problems,
      ran,
      overLimit,
      maxRejects: options.maxRejects,
      misfits,
      strict: options.strict === true,
    });
    await finishRun(
      db,
      runId,
      summary.ok ? 'succeeded' : signal.aborted && !overLimit ? 'aborted' : 'failed',
    );
    return summary;
  } catch (error) {
    await finishRun(db, runId, 'failed').catch(() => {});
    throw error;
  } finally {
    await workers?.close();
  }
}

function selectCollections(options: BackfillOptions) {
  const all = options.plan.collections;
  if (all.length === 0)
    throw new FerryError('the mapping maps no collections', {
      code: 'LOAD_EMPTY_MAPPING',
      category: 'usage',
      hint: 'run `ferry infer` to propose a mapping',
    });
  if (options.only === undefined) return all;
  const unknown = options.only.filter((name) => !all.some((c) => c.name === name));
  if (unknown.length > 0)
    throw new FerryError(`--only names collections the mapping does not have: ${unknown.join(', ')}`, {
      code: 'LOAD_UNKNOWN_COLLECTION',
      category: 'usage',
      hint: `the mapping has: ${all.map((c) => c.name).join(', ')}`,
    });
  return all.filter((c) => options.only!.includes(c.name));
}

/**
 * `--force`: empty the tables of the collections and forget their checkpoints and rejects,
 * in one transaction, so a crash in the middle leaves the old state, never half of it.
 * No `cascade`: a table of another collection that references these would be emptied
 * silently, so PostgreSQL's refusal is passed on instead.
 */
async function reset(db: TargetDatabase, options: BackfillOptions, schema: string, names: readonly string[]) {
  await resetCollections(db, options.plan, schema, names);
}

/**
 * Empty the tables of `names` in `schema` and forget their checkpoints and rejects, in one
 * transaction (what `--force` does before it loads them again). Keys from other collections
 * into these must be dropped first (`dropIncomingKeys`): PostgreSQL refuses otherwise.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await resetCollections(db, plan, 'public', ['orders']);
 */
export async function resetCollections(
  db: TargetDatabase,
  plan: Plan,
  schema: string,
  names: readonly string[],
): Promise<void> {
  const model = buildSchema(plan);
  const tables = model.tables.filter((t) => names.includes(t.collection)).map((t) => t.name);
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ name: string }>(
      'select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = any($2::text[])',
      [schema, tables],
    );
    if (rows.length > 0)
      await tx.query(`truncate ${rows.map((r) => `${quoteIdent(schema)}.${quoteIdent(r.name)}`).join(', ')}`);
    await tx.query('delete from ferry.checkpoints where schema = $1 and collection = any($2::text[])', [
      schema,
      names,
    ]);
    await tx.query('delete from ferry.rejects where schema = $1 and collection = any($2::text[])', [
      schema,
      names,
    ]);
  });
}

async function completeCollections(db: TargetDatabase, schema: string): Promise<Set<string>> {
  const { rows } = await db.query<{ collection: string }>(
    'select collection from ferry.checkpoints where schema = $1 and complete',
    [schema],
  );
  return new Set(rows.map((r) => r.collection));
}

/**
 * The order to start collections in when several load at once: the heaviest first, so the
 * end of the run is not one big collection loading alone while the other connections idle.
 * Weight is the estimated document count (1 when the source has none, as dumps and archives)
 * times the number of tables, since every child table multiplies the rows of a document. In
 * the marketplace benchmark, plan order left the request collection (five tables) alone for
 * the last 30% of the run.
 */
function heaviestFirst(
  collections: readonly CollectionPlan[],
  estimates: ReadonlyMap<string, number | undefined>,
): CollectionPlan[] {
  const weight = (c: CollectionPlan) => (estimates.get(c.name) ?? 1) * c.tables.length;
  return [...collections].sort((a, b) => weight(b) - weight(a));
}

/** Run `fn` over `items`, at most `limit` at a time, in order of start. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function summarize(input: {
  runId: number | undefined;
  dryRun: boolean;
  schemas: readonly string[];
  unmapped: readonly string[];
  started: number;
  summaries: readonly CollectionSummary[];
  problems: readonly AfterLoadProblem[];
  ran: readonly string[];
  overLimit: boolean;
  maxRejects: number | undefined;
  misfits: readonly ColumnMisfit[];
  strict: boolean;
}): BackfillSummary {
  const order = (s: CollectionSummary) => `${s.collection}\u0000${input.schemas.indexOf(s.schema)}`;
  const collections = [...input.summaries].sort((a, b) => (order(a) < order(b) ? -1 : 1));
  const wroteNothing = collections.every(
    (c) =>
      Object.values(c.rows).every((n) => n === 0) && c.run.rejected === 0 && (c.reread?.resolved ?? 0) === 0,
  );
  const rejected = rejectedDocuments(collections, input.schemas);
  const rejectsTolerated = input.maxRejects ?? 0;
  const ok =
    !input.overLimit &&
    rejected <= rejectsTolerated &&
    !(input.strict && input.misfits.length > 0) &&
    input.problems.length === 0 &&
    collections.every((c) => c.phase === 'done' || c.phase === 'up-to-date' || c.phase === 'dry-run');
  return {
    runId: input.runId,
    dryRun: input.dryRun,
    schemas: input.schemas,
    collections,
    unmapped: input.unmapped,
    afterLoad: { ran: input.ran, problems: input.problems },
    rejectsOverLimit: input.overLimit,
    rejected,
    rejectsTolerated,
    misfits: input.misfits,
    strict: input.strict,
    wroteNothing,
    ok,
    durationMs: Date.now() - input.started,
  };
}

/**
 * Rejected documents over the collections of a run. Every schema gets the same documents, so
 * a document rejected in two schemas is one missing document: the largest schema total.
 */
function rejectedDocuments(collections: readonly CollectionSummary[], schemas: readonly string[]): number {
  let most = 0;
  for (const schema of schemas) {
    const total = collections.filter((c) => c.schema === schema).reduce((sum, c) => sum + c.rejected, 0);
    most = Math.max(most, total);
  }
  return most;
}
