import { FerryError } from '../core/errors.js';
import { quoteIdent } from '../mapping/model.js';
import { ensureFerryState } from '../target/ferry-state.js';
import type { Queryable, TargetDatabase } from '../target/target-database.js';
import type { MigrationFile } from './migration-files.js';
import { bindSchema } from './sql-text.js';

/** A row of `ferry.migrations`. */
export interface AppliedMigration {
  readonly schema: string;
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
}

export interface ApplyOptions {
  /** `before-load`: stop before the first unapplied after-load file (a backfill runs then). */
  readonly until?: 'before-load' | 'all';
}

/** Per schema, the versions applied by this call. */
export type ApplyResult = ReadonlyMap<string, readonly number[]>;

/**
 * Apply the migration files that a schema has not run yet, in version order, each in its own
 * transaction together with its row in `ferry.migrations`, so a file is either fully applied
 * and recorded or not at all. The same files go into every schema named: the files write
 * the placeholder `:"schema"`, bound here per schema.
 *
 * Before anything runs, files already applied are checked against their recorded checksum;
 * an edited or deleted file stops the apply (`SCHEMA_MIGRATION_TAMPERED`): the database was
 * built from text that no longer exists, and running more on top of it would hide that.
 * Each file's transaction holds an advisory lock per schema and re-reads what is applied,
 * so two concurrent applies never run a file twice.
 *
 * @example
 * declare const db: TargetDatabase;
 * const files = await readMigrationFiles('migrations');
 * await applyMigrations(db, files, ['app', 'app_test']);   // Map { 'app' => [1, 2], 'app_test' => [1, 2] }
 */
export async function applyMigrations(
  db: TargetDatabase,
  files: readonly MigrationFile[],
  schemas: readonly string[],
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  await ensureFerryState(db);
  const result = new Map<string, number[]>();
  for (const schema of schemas) {
    const recorded = await appliedMigrations(db, schema);
    assertUntampered(schema, files, recorded);
    const done = new Set(recorded.map((r) => r.version));
    const applied: number[] = [];
    for (const file of files) {
      if (done.has(file.version)) continue;
      if (options.until === 'before-load' && file.phase === 'after-load') break;
      if (await applyOne(db, schema, file)) applied.push(file.version);
    }
    result.set(schema, applied);
  }
  return result;
}

/**
 * The rows of `ferry.migrations` for one schema, in version order (none before setup).
 *
 * @example
 * declare const db: TargetDatabase;
 * await appliedMigrations(db, 'app')   // [{ schema: 'app', version: 1, name: 'create_tables', checksum: '…' }]
 */
export async function appliedMigrations(db: Queryable, schema: string): Promise<readonly AppliedMigration[]> {
  const { rows } = await db
    .query<AppliedMigration>(
      'select schema, version, name, checksum from ferry.migrations where schema = $1 order by version',
      [schema],
    )
    .catch((error: { code?: string }) => {
      // 42P01: the state table does not exist yet, so nothing was applied.
      if (error.code === '42P01') return { rows: [] as AppliedMigration[] };
      throw error;
    });
  return rows;
}

async function applyOne(db: TargetDatabase, schema: string, file: MigrationFile): Promise<boolean> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('ferry.migrations'), hashtext($1))`, [schema]);
      const { rowCount } = await tx.query(
        'select 1 from ferry.migrations where schema = $1 and version = $2',
        [schema, file.version],
      );
      // Another process applied it while we waited for the lock.
      if (rowCount !== 0) return false;
      await tx.query(`create schema if not exists ${quoteIdent(schema)}`);
      // Unqualified names in hand-added SQL land in the target schema too, never in public.
      await tx.query(`set local search_path to ${quoteIdent(schema)}`);
      await tx.runScript(bindSchema(file.sql, schema));
      await tx.query(
        'insert into ferry.migrations (schema, version, name, checksum) values ($1, $2, $3, $4)',
        [schema, file.version, file.name, file.checksum],
      );
      return true;
    });
  } catch (cause) {
    throw new FerryError(`migration ${file.file} failed in schema ${schema}: ${(cause as Error).message}`, {
      code: 'SCHEMA_MIGRATION_FAILED',
      category: 'problem',
      cause,
      where: { file: file.file },
      hint: 'nothing of this file was applied; fix the cause (or the file, if it was never applied anywhere) and rerun',
    });
  }
}

function assertUntampered(
  schema: string,
  files: readonly MigrationFile[],
  recorded: readonly AppliedMigration[],
): void {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const problems: string[] = [];
  for (const row of recorded) {
    const file = byVersion.get(row.version);
    if (file === undefined)
      problems.push(`version ${row.version} (${row.name}) was applied but its file is missing`);
    else if (file.checksum !== row.checksum) problems.push(`${file.file} was edited after it was applied`);
  }
  if (problems.length > 0)
    throw new FerryError(
      `migrations of schema ${schema} do not match what was applied:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
      {
        code: 'SCHEMA_MIGRATION_TAMPERED',
        category: 'problem',
        hint: 'restore the files from version control; never edit an applied migration, add a new one',
      },
    );
}
