import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../core/errors.js';
import { diffSchemas } from './diff.js';
import { ddlPhases } from './phases.js';
import type { SchemaModel } from './schema-model.js';
import { type DdlStatement, renderSql } from './statements.js';

/** `0001_create_tables.sql`: four digits, `_`, a snake_case name. */
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** The schema the migration files produce, kept next to them so the next change can be diffed. */
export const SNAPSHOT_FILE = 'ferry-snapshot.json';
const SNAPSHOT_VERSION = 1;

/**
 * When a file may run relative to a backfill: `before-load` files create what the load
 * writes into, `after-load` files add reference keys and indexes, `any` is a later change.
 */
export type MigrationPhase = 'before-load' | 'after-load' | 'any';

/** One versioned SQL file of a migrations folder. */
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
 * Bring a migrations folder up to `model`: the first time, write the initial schema as
 * `0001_create_tables.sql` (before the load) and `0002_add_constraints_and_indexes.sql`
 * (after it); later, diff the folder's snapshot against `model` and write one new file with
 * the difference, or nothing when there is none. Destructive differences are refused unless
 * `force`. File text is deterministic, so the same model always gives the same bytes.
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
  const existing = await readMigrationFiles(dir);
  const snapshot = await readSnapshot(dir);
  if (existing.length > 0 && snapshot === undefined)
    throw new FerryError(`migrations folder ${dir} has SQL files but no ${SNAPSHOT_FILE}`, {
      code: 'SCHEMA_SNAPSHOT_MISSING',
      category: 'input',
      where: { file: path.join(dir, SNAPSHOT_FILE) },
      hint: 'restore the snapshot from version control; Ferry needs it to write the next migration',
    });
  const next = (existing.at(-1)?.version ?? 0) + 1;
  const pending: { name: string; phase: MigrationPhase; statements: readonly DdlStatement[] }[] = [];
  let destructive: readonly string[] = [];
  if (snapshot === undefined) {
    const phases = ddlPhases(model);
    pending.push({ name: 'create_tables', phase: 'before-load', statements: phases.beforeLoad });
    pending.push({ name: 'add_constraints_and_indexes', phase: 'after-load', statements: phases.afterLoad });
  } else {
    const diff = diffSchemas(snapshot, model);
    destructive = diff.destructive;
    if (destructive.length > 0 && options.force !== true)
      throw new FerryError(
        `the mapping changed destructively since the last migration:\n${destructive.map((d) => `  - ${d}`).join('\n')}\n`,
        {
          code: 'SCHEMA_DESTRUCTIVE_CHANGE',
          category: 'usage',
          hint: 'review the list; rerun with --force (and --yes off a terminal) to write these statements',
        },
      );
    pending.push({
      name: 'update_schema',
      phase: 'any',
      statements: [...diff.beforeLoad, ...diff.afterLoad],
    });
  }

  const written: MigrationFile[] = [];
  await mkdir(dir, { recursive: true });
  for (const item of pending) {
    const statements = item.statements.filter((s) => s.kind !== 'analyze');
    if (statements.length === 0) continue;
    const version = next + written.length;
    const sql = fileText(version, item.name, item.phase, statements);
    const file = `${String(version).padStart(4, '0')}_${item.name}.sql`;
    await writeFile(path.join(dir, file), sql, { flag: 'wx' });
    written.push({ version, name: item.name, file, sql, checksum: checksum(sql), phase: item.phase });
  }
  if (written.length > 0 || snapshot === undefined) await writeSnapshot(dir, model);
  return { written, destructive };
}

/**
 * The schema the folder's files produce, as recorded when they were written.
 *
 * @example
 * const before = await readSnapshot('migrations');   // undefined for a new folder
 */
export async function readSnapshot(dir: string): Promise<SchemaModel | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, SNAPSHOT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as { version?: unknown; model?: SchemaModel };
  if (parsed.version !== SNAPSHOT_VERSION || parsed.model === undefined)
    throw new FerryError(
      `${SNAPSHOT_FILE} has snapshot version ${String(parsed.version)}; this Ferry reads ${SNAPSHOT_VERSION}`,
      {
        code: 'SCHEMA_SNAPSHOT_VERSION',
        category: 'input',
        where: { file: path.join(dir, SNAPSHOT_FILE) },
      },
    );
  return { ...parsed.model, warnings: [] };
}

async function writeSnapshot(dir: string, model: SchemaModel): Promise<void> {
  // Warnings describe the plan, not the schema the files create; they would only add noise to diffs.
  const { warnings: _warnings, ...schema } = model;
  const file = path.join(dir, SNAPSHOT_FILE);
  // Write-then-rename, so a crash never leaves a half snapshot that the next run would misread.
  await writeFile(
    `${file}.tmp`,
    `${JSON.stringify({ version: SNAPSHOT_VERSION, model: schema }, null, 2)}\n`,
  );
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
