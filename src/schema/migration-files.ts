import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../core/errors.js';
import { readTextIfExists } from '../core/file-exists.js';
import { diffSchemas, type SchemaDiff } from './diff.js';
import { ddlPhases } from './phases.js';
import type { SchemaModel } from './schema-model.js';
import { parseSnapshot, snapshotText } from './snapshot-file.js';
import { type DdlStatement, renderSql } from './statements.js';

/** `0001_create_tables.sql`: four digits, `_`, a snake_case name. */
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** The schema the migration files produce, kept next to them so the next change can be diffed. */
export const SNAPSHOT_FILE = 'ferry-snapshot.json';

/**
 * When a file may run relative to a backfill: `before-load` files create what the load
 * writes into, `after-load` files add reference keys and indexes, `any` is a later change.
 */
export type MigrationPhase = 'before-load' | 'after-load' | 'any';

/**
 * One versioned SQL file of a migrations folder.
 *
 * @example
 * declare const plan: Plan;
 * const { written } = await writeMigrations('migrations', buildSchema(plan));
 * for (const f of written) console.log(f.version, f.file, f.phase);
 */
export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly file: string;
  readonly sql: string;
  /** SHA-256 (hex) of the file's bytes; recorded in `ferry.migrations` when applied. */
  readonly checksum: string;
  readonly phase: MigrationPhase;
}

/**
 * The SQL files of a migrations folder, in version order (an absent folder has none).
 *
 * @example
 * const files = await readMigrationFiles('migrations');
 * files.map((f) => f.file)   // ['0001_create_tables.sql', '0002_add_constraints_and_indexes.sql']
 */
export async function readMigrationFiles(dir: string): Promise<readonly MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: MigrationFile[] = [];
  for (const file of names.sort()) {
    const match = FILE_PATTERN.exec(file);
    if (!match) continue;
    const sql = await readFile(path.join(dir, file), 'utf8');
    const version = Number(match[1]);
    if (files.some((f) => f.version === version))
      throw new FerryError(`two migration files have version ${match[1]}`, {
        code: 'SCHEMA_DUPLICATE_VERSION',
        category: 'input',
        where: { file: path.join(dir, file) },
        hint: 'renumber one of them; versions must be unique',
      });
    files.push({ version, name: match[2]!, file, sql, checksum: checksum(sql), phase: phaseOf(sql) });
  }
  return files;
}

/** What `writeMigrations` did. */
export interface WriteResult {
  readonly written: readonly MigrationFile[];
  /** Statements that can lose data, written only because `force` was set. */
  readonly destructive: readonly string[];
}

/**
 * The migration files a model needs next, in memory: nothing is on disk until
 * `commitMigrations`, so a migration that fails to apply leaves the folder and its
 * snapshot as they were.
 */
export interface PendingMigrations {
  readonly dir: string;
  readonly model: SchemaModel;
  /** The files already in the folder, in version order. */
  readonly existing: readonly MigrationFile[];
  /** The new files, in version order (empty when the folder matches the model). */
  readonly files: readonly MigrationFile[];
  /** The difference from the snapshot; undefined for a new folder. */
  readonly diff: SchemaDiff | undefined;
}

/**
 * Plan the next migration files for `model`: the first time, the initial schema as
 * `0001_create_tables.sql` (before the load) and `0002_add_constraints_and_indexes.sql`
 * (after it); later, the difference from the folder's snapshot, as one file, or two when
 * collections must be reloaded in between (keys into re-created tables can only come back
 * once their rows are there). File text is deterministic: the same model gives the same bytes.
 *
 * @example
 * declare const plan: Plan;
 * const pending = await planMigrations('migrations', buildSchema(plan));
 * pending.files.map((f) => f.file)   // ['0003_update_schema.sql']
 */
export async function planMigrations(dir: string, model: SchemaModel): Promise<PendingMigrations> {
  const existing = await readMigrationFiles(dir);
  const snapshot = await readSnapshot(dir);
  if (existing.length > 0 && snapshot === undefined)
    throw new FerryError(`migrations folder ${dir} has SQL files but no ${SNAPSHOT_FILE}`, {
      code: 'SCHEMA_SNAPSHOT_MISSING',
      category: 'input',
      where: { file: path.join(dir, SNAPSHOT_FILE) },
      hint: 'restore the snapshot from version control; Ferry needs it to write the next migration',
    });
  const items: { name: string; phase: MigrationPhase; statements: readonly DdlStatement[] }[] = [];
  let diff: SchemaDiff | undefined;
  if (snapshot === undefined) {
    const phases = ddlPhases(model);
    items.push({ name: 'create_tables', phase: 'before-load', statements: phases.beforeLoad });
    items.push({ name: 'add_constraints_and_indexes', phase: 'after-load', statements: phases.afterLoad });
  } else {
    diff = diffSchemas(snapshot, model);
    if (diff.reloads.length > 0 && diff.afterLoad.length > 0) {
      items.push({ name: 'update_schema', phase: 'before-load', statements: diff.beforeLoad });
      items.push({ name: 'update_constraints_and_indexes', phase: 'after-load', statements: diff.afterLoad });
    } else {
      items.push({
        name: 'update_schema',
        phase: 'any',
        statements: [...diff.beforeLoad, ...diff.afterLoad],
      });
    }
  }
  const next = (existing.at(-1)?.version ?? 0) + 1;
  const files: MigrationFile[] = [];
  for (const item of items) {
    const statements = item.statements.filter((s) => s.kind !== 'analyze');
    if (statements.length === 0) continue;
    const version = next + files.length;
    const sql = fileText(version, item.name, item.phase, statements);
    const file = `${String(version).padStart(4, '0')}_${item.name}.sql`;
    files.push({ version, name: item.name, file, sql, checksum: checksum(sql), phase: item.phase });
  }
  return { dir, model, existing, files, diff };
}

/**
 * Write planned files and move the snapshot to their model. Called once the files are
 * applied (or, for `writeMigrations`, when the caller applies them later itself).
 *
 * @example
 * declare const model: SchemaModel;
 * await commitMigrations(await planMigrations('migrations', model));
 */
export async function commitMigrations(pending: PendingMigrations): Promise<void> {
  if (pending.files.length === 0 && pending.diff !== undefined) return;
  await mkdir(pending.dir, { recursive: true });
  for (const file of pending.files)
    await writeFile(path.join(pending.dir, file.file), file.sql, { flag: 'wx' });
  await writeSnapshot(pending.dir, pending.model);
}

/**
 * Bring a migrations folder up to `model` without applying anything: plan the files (see
 * `planMigrations`) and write them with the snapshot. Destructive differences are refused
 * unless `force`.
 *
 * @example
 * declare const plan: Plan;
 * const { written } = await writeMigrations('migrations', buildSchema(plan));
 */
export async function writeMigrations(
  dir: string,
  model: SchemaModel,
  options: { readonly force?: boolean } = {},
): Promise<WriteResult> {
  const pending = await planMigrations(dir, model);
  const destructive = pending.diff?.destructive ?? [];
  if (destructive.length > 0 && options.force !== true) throw destructiveChange(destructive);
  await commitMigrations(pending);
  return { written: pending.files, destructive };
}

/**
 * The refusal of a destructive change that nobody confirmed.
 *
 * @example
 * declare const diff: SchemaDiff;
 * declare const confirmed: boolean;
 * if (diff.destructive.length > 0 && !confirmed) throw destructiveChange(diff.destructive);
 */
export function destructiveChange(destructive: readonly string[]): FerryError {
  return new FerryError(
    `the mapping changed destructively since the last migration:\n${destructive.map((d) => `  - ${d}`).join('\n')}\n`,
    {
      code: 'SCHEMA_DESTRUCTIVE_CHANGE',
      category: 'usage',
      hint: 'review the list; rerun with --yes (or answer the prompt on a terminal) to run these statements',
    },
  );
}

/**
 * The schema the folder's files produce, as recorded when they were written. A snapshot
 * that is damaged, another tool's, or of another format or plan version is refused with an
 * input error naming the file (snapshot-file.ts).
 *
 * @example
 * const before = await readSnapshot('migrations');   // undefined for a new folder
 */
export async function readSnapshot(dir: string): Promise<SchemaModel | undefined> {
  const file = path.join(dir, SNAPSHOT_FILE);
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  return parseSnapshot(text, file);
}

async function writeSnapshot(dir: string, model: SchemaModel): Promise<void> {
  const file = path.join(dir, SNAPSHOT_FILE);
  // Write-then-rename, so a crash never leaves a half snapshot that the next run would misread.
  await writeFile(`${file}.tmp`, snapshotText(model));
  await rename(`${file}.tmp`, file);
}

/**
 * The SHA-256 of a migration's text, as stored in `ferry.migrations`.
 *
 * @example
 * checksum('select 1;\n')   // '3f…' (64 hex characters)
 */
export function checksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

function fileText(
  version: number,
  name: string,
  phase: MigrationPhase,
  statements: readonly DdlStatement[],
): string {
  const header = [
    `-- ferry migration ${String(version).padStart(4, '0')}: ${name.replaceAll('_', ' ')}`,
    `-- phase: ${phase}`,
    '-- Written by `ferry schema apply`; do not edit after it is applied (the checksum is recorded).',
    '-- Apply with `ferry schema apply --schema <name>`, or `psql -v schema=<name> -f <this file>`.',
  ].join('\n');
  return `${header}\n\n${renderSql(statements, { kind: 'placeholder' })}`;
}

function phaseOf(sql: string): MigrationPhase {
  const match = /^-- phase: (before-load|after-load|any)$/m.exec(sql);
  return (match?.[1] as MigrationPhase | undefined) ?? 'any';
}
