import { FerryError } from '../core/errors.js';
import { quoteIdent } from '../mapping/model.js';
import { ensureFerryState } from '../target/ferry-state.js';
import type { TargetDatabase } from '../target/target-database.js';
import { type ApplyResult, appliedMigrations, applyMigrations } from './apply-migrations.js';
import { describeStatement, type Reload } from './diff.js';
import { commitMigrations, type MigrationFile, planMigrations } from './migration-files.js';
import type { SchemaModel } from './schema-model.js';
import { qualified } from './sql-text.js';
import { type DdlStatement, isDestructive } from './statements.js';

/** One step of a schema change, as shown to the user before anything runs. */
export type EvolutionStep =
  | { readonly kind: 'statement'; readonly text: string; readonly destructive: boolean }
  | { readonly kind: 'reload'; readonly collection: string; readonly reason: string };

/** What `evolveSchema` is about to do. */
export interface EvolutionPlan {
  /** The migration files it will write (on disk only once they are applied). */
  readonly files: readonly MigrationFile[];
  readonly steps: readonly EvolutionStep[];
  /** Loaded collections whose rows must be loaded again (new columns, re-created tables). */
  readonly reloads: readonly Reload[];
  /** Descriptions of the steps that can lose data; they need the user's confirmation. */
  readonly destructive: readonly string[];
}

export interface EvolveOptions {
  readonly db: TargetDatabase;
  /** The migrations folder. */
  readonly dir: string;
  /** The schema the mapping asks for now (`buildSchema(plan)`). */
  readonly model: SchemaModel;
  readonly schemas: readonly string[];
  /** Sees the plan before anything runs; throws to stop (e.g. a destructive step nobody confirmed). */
  readonly confirm?: (plan: EvolutionPlan) => Promise<void> | void;
  /**
   * Empties and loads these collections again from the source, between the schema change
   * and the keys and indexes that need their rows. Required when the plan has reloads.
   */
  readonly reload?: (collections: readonly string[]) => Promise<void>;
  /** `before-load`: stop before the first after-load file (and reload nothing). */
  readonly until?: 'before-load' | 'all';
}

export interface EvolveResult {
  readonly plan: EvolutionPlan;
  readonly written: readonly MigrationFile[];
  readonly applied: ApplyResult;
  readonly reloaded: readonly string[];
}

/**
 * Change a loaded schema to what the mapping now asks for, as `ferry schema apply` does:
 *
 * 1. plan the next migration files from the snapshot (renames, widenings, new columns,
 *    re-created tables: see `diffSchemas`) and hand the plan to `confirm`;
 * 2. apply them, each file in its own transaction;
 * 3. write the files and move the snapshot, only once they committed, so a migration that
 *    fails leaves the folder exactly as it was and `schema check` consistent;
 * 4. reload the loaded collections the change needs (only those), with any key from another
 *    collection into them dropped first (the backfill adds it back once both are complete);
 * 5. apply what belongs after the load.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const source: Source;
 * declare const plan: Plan;
 * await evolveSchema({
 *   db, dir: 'migrations', model: buildSchema(plan), schemas: ['public'],
 *   confirm: (evolution) => console.log(evolution.steps),
 *   reload: async (only) => {
 *     await backfill({ source, target: db, plan, only, reload: only });
 *   },
 * });
 */
export async function evolveSchema(options: EvolveOptions): Promise<EvolveResult> {
  const { db, schemas } = options;
  const pending = await planMigrations(options.dir, options.model);
  await ensureFerryState(db);
  const loaded = await loadedCollections(db, schemas);
  const untilBeforeLoad = options.until === 'before-load';
  const reloads = (pending.diff?.reloads ?? []).filter((r) => loaded.has(r.collection));
  const statements: DdlStatement[] = pending.diff
    ? [...pending.diff.beforeLoad, ...pending.diff.afterLoad]
    : [];
  const m = options.model;
  // The first migration is shown as one step: listing every table, key and index of a new
  // schema would bury the steps that matter later.
  const first: EvolutionStep[] =
    pending.diff === undefined && pending.files.length > 0
      ? [
          {
            kind: 'statement',
            text: `create the schema (first migration): ${m.tables.length} table(s), ${m.foreignKeys.length} foreign key(s), ${m.checks.length} check(s), ${m.indexes.length} index(es)${m.appendOnly.length > 0 ? `, ${m.appendOnly.length} append-only table(s) (UPDATE and DELETE refused)` : ''}`,
            destructive: false,
          },
        ]
      : [];
  const plan: EvolutionPlan = {
    files: pending.files,
    steps: [
      ...first,
      ...statements.map(
        (s): EvolutionStep => ({
          kind: 'statement',
          text: describeStatement(s),
          destructive: isDestructive(s),
        }),
      ),
      ...reloads.map((r): EvolutionStep => ({ kind: 'reload', ...r })),
    ],
    reloads,
    destructive: pending.diff?.destructive ?? [],
  };
  await options.confirm?.(plan);
  if (reloads.length > 0 && options.reload === undefined && !untilBeforeLoad)
    throw new FerryError(
      `the change needs ${reloads.map((r) => r.collection).join(', ')} loaded again, and no source was given`,
      {
        code: 'SCHEMA_RELOAD_NEEDS_SOURCE',
        category: 'usage',
        hint: 'set `source` in ferry.config.ts or pass --source, so the affected collections can be reloaded',
      },
    );

  const files = [...pending.existing, ...pending.files];
  const firstStop = reloads.length > 0 || untilBeforeLoad ? 'before-load' : 'all';
  let applied: ApplyResult;
  try {
    applied = await applyMigrations(db, files, schemas, { until: firstStop });
  } catch (error) {
    // A file that committed in some schema must stay on disk: the database was built from it.
    if (await anyApplied(db, schemas, pending.files)) await commitMigrations(pending);
    throw error;
  }
  await commitMigrations(pending);

  const reloaded: string[] = [];
  if (reloads.length > 0 && !untilBeforeLoad && options.reload) {
    const collections = reloads.map((r) => r.collection);
    for (const schema of schemas) await dropIncomingKeys(db, options.model, schema, collections);
    await options.reload(collections);
    reloaded.push(...collections);
  }
  if (firstStop === 'before-load' && !untilBeforeLoad) {
    const rest = await applyMigrations(db, files, schemas);
    applied = new Map(schemas.map((s) => [s, [...(applied.get(s) ?? []), ...(rest.get(s) ?? [])]]));
  }
  return { plan, written: pending.files, applied, reloaded };
}

/** Collections with a checkpoint in any of the schemas: some of their rows are loaded. */
async function loadedCollections(db: TargetDatabase, schemas: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ collection: string }>(
    'select distinct collection from ferry.checkpoints where schema = any($1::text[])',
    [schemas],
  );
  return new Set(rows.map((r) => r.collection));
}

async function anyApplied(
  db: TargetDatabase,
  schemas: readonly string[],
  files: readonly MigrationFile[],
): Promise<boolean> {
  const versions = new Set(files.map((f) => f.version));
  for (const schema of schemas) {
    const rows = await appliedMigrations(db, schema);
    if (rows.some((r) => versions.has(r.version))) return true;
  }
  return false;
}

/**
 * A key from another collection's table into a collection about to be emptied would stop the
 * truncate; it is dropped here, and the backfill adds it again once both sides are complete.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await dropIncomingKeys(db, buildSchema(plan), 'public', ['customers']); // drops orders_customer_fkey
 */
export async function dropIncomingKeys(
  db: TargetDatabase,
  model: SchemaModel,
  schema: string,
  collections: readonly string[],
): Promise<void> {
  const owner = new Map(model.tables.map((t) => [t.name, t.collection]));
  const reloading = (table: string) => collections.includes(owner.get(table) ?? '');
  for (const fk of model.foreignKeys) {
    if (!reloading(fk.refTable) || reloading(fk.table)) continue;
    const table = qualified({ kind: 'schema', name: schema }, fk.table);
    await db.query(`alter table if exists ${table} drop constraint if exists ${quoteIdent(fk.name)}`);
  }
}
