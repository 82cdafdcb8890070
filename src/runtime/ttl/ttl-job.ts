import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../../core/errors.js';
import { quoteIdent } from '../../mapping/model.js';
import type { SchemaModel, TtlRule } from '../../schema/schema-model.js';
import { qualified } from '../../schema/sql-text.js';
import type { Queryable } from '../../target/target-database.js';
import { recordTtlProgress, startTtlRun, type TtlRuleOutcome, type TtlRun } from './ttl-runs.js';

/**
 * The TTL job (`ferry ttl run`): MongoDB's TTL monitor, done on PostgreSQL. Each rule of the
 * plan (a translated `expireAfterSeconds` index, partial filter included) deletes the root
 * rows whose date is older than its seconds, in small batches, each its own statement and so
 * its own short transaction. Child rows go with their root through the parent foreign keys'
 * `on delete cascade`. When the outbox's capture triggers are installed (domain in
 * `pg_primary`), each delete is captured like any other and reaches MongoDB.
 */

/**
 * Rows per delete statement when none is given: small enough that no lock is held for long.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const model: SchemaModel;
 * await runTtlRules(db, model, { schema: 'public', batchSize: DEFAULT_TTL_BATCH_SIZE / 10 });
 */
export const DEFAULT_TTL_BATCH_SIZE = 1000;

/**
 * Options of `runTtlRules`.
 *
 * @example
 * const stop = new AbortController();
 * const options: TtlOptions = { schema: 'public', batchSize: 500, signal: stop.signal };
 */
export interface TtlOptions {
  /** The target schema holding the mapped tables. */
  readonly schema: string;
  /** Root rows per delete statement (default 1000). */
  readonly batchSize?: number;
  /** Stops between batches: the batch under way commits, the run is recorded as finished. */
  readonly signal?: AbortSignal;
  /** Called after every batch, e.g. for progress. */
  readonly onBatch?: (rule: TtlRule, removed: number) => void;
}

/**
 * Run every TTL rule of `model` once in `options.schema` and record the run in
 * `ferry.ttl_runs` (the caller sets up the state schema first: `ensureFerryState`). A row is
 * expired when its date plus the rule's seconds is before the run's cutoff (the database's
 * clock when the run started), and, for a partial TTL index, when it matches the filter;
 * rows without a date never expire, as in MongoDB. Each batch deletes at most `batchSize`
 * root rows picked with `for update skip locked`, so rows an application holds locked are
 * left for the next run instead of being waited for. A rule ends with the first batch that
 * removes fewer rows than `batchSize`. A failing delete (a foreign key from another
 * collection that still points at an expired row) stops the run with `TTL_DELETE_FAILED`,
 * recorded with what was removed before it.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await ensureFerryState(db);
 * const run = await runTtlRules(db, buildSchema(plan), { schema: 'public', batchSize: 500 });
 * for (const rule of run.rules) console.log(`${rule.table}: ${rule.removed} removed in ${rule.batches} batches`);
 */
export async function runTtlRules(db: Queryable, model: SchemaModel, options: TtlOptions): Promise<TtlRun> {
  const batchSize = options.batchSize ?? DEFAULT_TTL_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new FerryError(`the TTL batch size must be a whole number of at least 1, not ${batchSize}`, {
      code: 'USAGE_BAD_NUMBER',
      category: 'usage',
    });
  const run = await startTtlRun(db, options.schema);
  const outcomes: TtlRuleOutcome[] = [];
  for (const rule of model.ttl) {
    if (options.signal?.aborted === true) break;
    const collection = model.tables.find((t) => t.name === rule.table)?.collection ?? rule.table;
    const outcome = { ...ruleOutcome(rule, collection) };
    outcomes.push(outcome);
    try {
      await expireRule(db, model, rule, run.cutoff, batchSize, options, (removed) => {
        outcome.removed += removed;
        outcome.batches += 1;
      });
    } catch (cause) {
      const error = new FerryError(
        `the TTL rule of index ${rule.source} could not delete expired rows of ${options.schema}.${rule.table}: ${(cause as Error).message}`,
        {
          code: 'TTL_DELETE_FAILED',
          category: 'problem',
          cause,
          where: { collection },
          hint: 'a key from another table may still point at an expired row; rows removed before this are recorded in ferry.ttl_runs',
        },
      );
      await recordTtlProgress(db, run.id, outcomes, { ok: false, error: error.message });
      throw error;
    }
    await recordTtlProgress(db, run.id, outcomes);
  }
  await recordTtlProgress(db, run.id, outcomes, { ok: true });
  const removed = outcomes.reduce((n, r) => n + r.removed, 0);
  const batches = outcomes.reduce((n, r) => n + r.batches, 0);
  return { ...run, rules: outcomes, removed, batches, ok: true, finishedAt: new Date().toISOString() };
}

function ruleOutcome(
  rule: TtlRule,
  collection: string,
): { -readonly [K in keyof TtlRuleOutcome]: TtlRuleOutcome[K] } {
  return {
    collection,
    table: rule.table,
    column: rule.column,
    seconds: rule.seconds,
    source: rule.source,
    removed: 0,
    batches: 0,
  };
}

async function expireRule(
  db: Queryable,
  model: SchemaModel,
  rule: TtlRule,
  cutoff: string,
  batchSize: number,
  options: TtlOptions,
  onBatch: (removed: number) => void,
): Promise<void> {
  const table = model.tables.find((t) => t.name === rule.table);
  if (table === undefined) return;
  const key = table.primaryKey.columns.map(quoteIdent).join(', ');
  const target = qualified({ kind: 'schema', name: options.schema }, rule.table);
  const filter = rule.where === undefined ? '' : ` and (${rule.where})`;
  // By primary key, not ctid: a row updated between the pick and the delete moves to a new
  // ctid, and the key is what the index on it (and the cascade) serve.
  const sql = `delete from ${target} where (${key}) in (
    select ${key} from ${target}
     where ${quoteIdent(rule.column)} < $1::timestamptz - make_interval(secs => $2::double precision)${filter}
     limit $3 for update skip locked)`;
  for (;;) {
    const { rowCount } = await db.query(sql, [cutoff, rule.seconds, batchSize]);
    onBatch(rowCount);
    options.onBatch?.(rule, rowCount);
    if (rowCount < batchSize || options.signal?.aborted === true) return;
  }
}

/**
 * `ferry ttl run --watch`: a run every `intervalMs` (default 60 s, MongoDB's own TTL monitor
 * period) until `signal` aborts; then the batch under way commits and the run is recorded as
 * finished. A run that fails is reported through `onRun` and tried again at the next interval.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const model: SchemaModel;
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await watchTtlRules(db, model, { schemas: ['public'], signal: stop.signal, onRun: ({ run }) => console.log(run?.removed) });
 */
export async function watchTtlRules(
  db: Queryable,
  model: SchemaModel,
  options: Omit<TtlOptions, 'schema'> & {
    /** Every target schema is run in each pass. */
    readonly schemas: readonly string[];
    readonly intervalMs?: number;
    readonly onRun?: (result: { readonly run?: TtlRun; readonly error?: unknown }) => void;
  },
): Promise<void> {
  const stopped = () => options.signal?.aborted === true;
  while (!stopped()) {
    for (const schema of options.schemas) {
      if (stopped()) break;
      try {
        options.onRun?.({ run: await runTtlRules(db, model, { ...options, schema }) });
      } catch (error) {
        options.onRun?.({ error });
      }
    }
    await sleep(
      options.intervalMs ?? 60_000,
      undefined,
      options.signal ? { signal: options.signal } : {},
    ).catch(() => {});
  }
}
