import type { Queryable } from '../target/target-database.js';
import { type AppliedMigration, appliedMigrations } from './apply-migrations.js';
import { type CatalogSchema, readCatalog } from './catalog.js';
import { diffSchemas } from './diff.js';
import type { MigrationFile } from './migration-files.js';
import type { SchemaModel } from './schema-model.js';
import { APPEND_ONLY_TRIGGER, compileStatement } from './statements.js';

/**
 * One difference between the mapping, the migration files and a database schema.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const model: SchemaModel;
 * declare const files: readonly MigrationFile[];
 * declare const snapshot: SchemaModel | undefined;
 * const drift = await checkDrift(db, { model, files, snapshot, schemas: ['public'] });
 * for (const d of drift) console.log(d.kind, d.message);
 */
export interface Drift {
  readonly kind:
    | 'file_edited'
    | 'file_missing'
    | 'file_unapplied'
    | 'plan_not_migrated'
    | 'table_missing'
    | 'table_extra'
    | 'column_missing'
    | 'column_extra'
    | 'column_type'
    | 'column_nullability'
    | 'constraint_missing'
    | 'constraint_changed'
    | 'index_missing'
    | 'index_changed'
    | 'append_only_missing'
    | 'append_only_extra'
    | 'capture_trigger_missing'
    | 'capture_trigger_disabled';
  /** The database schema concerned; absent for plan-vs-files differences. */
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly message: string;
}

/** What drift is checked against. */
export interface DriftInputs {
  /** The schema the mapping asks for (`buildSchema(plan)`). */
  readonly model: SchemaModel;
  readonly files: readonly MigrationFile[];
  /** The schema the files produce (`readSnapshot(dir)`); undefined when there are no files yet. */
  readonly snapshot: SchemaModel | undefined;
  readonly schemas: readonly string[];
}

/**
 * Every difference between (a) the migration files and `ferry.migrations` (edited, missing,
 * unapplied files), (b) each database schema's catalog and the schema the mapping asks for
 * (tables, columns, types, nullability, keys, checks, indexes), and (c) the mapping and the
 * files (the mapping changed but no migration was written). Empty means no drift.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const model: SchemaModel;
 * declare const snapshot: SchemaModel | undefined;
 * declare const files: readonly MigrationFile[];
 * const drift = await checkDrift(db, { model, files, snapshot, schemas: ['app'] });
 * if (drift.length > 0) process.exitCode = 1;
 */
export async function checkDrift(db: Queryable, inputs: DriftInputs): Promise<readonly Drift[]> {
  const out: Drift[] = [...planDrift(inputs)];
  for (const schema of inputs.schemas) {
    out.push(...fileDrift(schema, inputs.files, await appliedMigrations(db, schema)));
    out.push(...catalogDrift(schema, inputs.model, await readCatalog(db, schema)));
  }
  return out;
}

function planDrift({ model, files, snapshot }: DriftInputs): Drift[] {
  if (snapshot === undefined)
    return [
      {
        kind: 'plan_not_migrated',
        message:
          files.length === 0
            ? 'no migration files yet; run `ferry schema apply`'
            : 'the migrations snapshot is missing',
      },
    ];
  const diff = diffSchemas(snapshot, model);
  return [...diff.beforeLoad, ...diff.afterLoad].map((statement) => ({
    kind: 'plan_not_migrated' as const,
    message: `the mapping needs a migration the files lack: ${compileStatement(statement, { kind: 'placeholder' }).split('\n')[0]}`,
  }));
}

function fileDrift(
  schema: string,
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
): Drift[] {
  const out: Drift[] = [];
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const appliedVersions = new Set(applied.map((a) => a.version));
  for (const row of applied) {
    const file = byVersion.get(row.version);
    if (file === undefined)
      out.push({
        kind: 'file_missing',
        schema,
        message: `migration ${row.version} (${row.name}) is applied but its file is missing`,
      });
    else if (file.checksum !== row.checksum)
      out.push({
        kind: 'file_edited',
        schema,
        message: `${file.file} was edited after it was applied (checksum differs)`,
      });
  }
  for (const file of files) {
    if (!appliedVersions.has(file.version))
      out.push({ kind: 'file_unapplied', schema, message: `${file.file} is not applied` });
  }
  return out;
}

/**
 * The `format_type` spelling of a plan type; only `timestamptz` is spelled differently, with
 * its precision in the middle (`timestamptz(3)[]` is `timestamp(3) with time zone[]`).
 */
function catalogType(pgType: string): string {
  return pgType.replace(
    /^timestamptz(\(\d+\))?/,
    (_, precision = '') => `timestamp${precision} with time zone`,
  );
}

function catalogDrift(schema: string, model: SchemaModel, catalog: CatalogSchema): Drift[] {
  const out: Drift[] = [];
  const expectedTables = new Set(model.tables.map((t) => t.name));
  for (const table of model.tables) {
    const actual = catalog.tables.get(table.name);
    if (actual === undefined) {
      out.push({
        kind: 'table_missing',
        schema,
        table: table.name,
        message: `table ${schema}.${table.name} is missing`,
      });
      continue;
    }
    const expectedColumns = new Set(table.columns.map((c) => c.name));
    for (const column of table.columns) {
      const found = actual.columns.get(column.name);
      const where = { schema, table: table.name, column: column.name };
      const label = `${schema}.${table.name}.${column.name}`;
      if (found === undefined)
        out.push({ kind: 'column_missing', ...where, message: `column ${label} is missing` });
      else {
        const type = catalogType(column.pgType);
        if (found.type !== type)
          out.push({
            kind: 'column_type',
            ...where,
            message: `column ${label} has type ${found.type}; the mapping says ${type}`,
          });
        if (found.nullable !== column.nullable)
          out.push({
            kind: 'column_nullability',
            ...where,
            message: `column ${label} is ${found.nullable ? 'nullable' : 'NOT NULL'}; the mapping says ${column.nullable ? 'nullable' : 'NOT NULL'}`,
          });
      }
    }
    for (const name of actual.columns.keys()) {
      if (!expectedColumns.has(name))
        out.push({
          kind: 'column_extra',
          schema,
          table: table.name,
          column: name,
          message: `column ${schema}.${table.name}.${name} is not in the mapping`,
        });
    }
  }
  for (const name of catalog.tables.keys()) {
    if (!expectedTables.has(name))
      out.push({
        kind: 'table_extra',
        schema,
        table: name,
        message: `table ${schema}.${name} is not in the mapping`,
      });
  }
  out.push(...constraintDrift(schema, model, catalog));
  out.push(...indexDrift(schema, model, catalog));
  out.push(...appendOnlyDrift(schema, model, catalog));
  out.push(...captureTriggerDrift(schema, model, catalog));
  return out;
}

/**
 * Capture triggers the mapping installs that a table lacks (dropped by hand) or has disabled:
 * either way that table's writes stop reaching `ferry.outbox`, so in phase `pg_primary` they
 * would never reach MongoDB. Checked by name only; the body is Ferry's own to change.
 */
function captureTriggerDrift(schema: string, model: SchemaModel, catalog: CatalogSchema): Drift[] {
  const out: Drift[] = [];
  const found = new Map(catalog.triggers.map((t) => [`${t.table}\u0000${t.name}`, t]));
  for (const trigger of model.captureTriggers) {
    if (!catalog.tables.has(trigger.table)) continue;
    const actual = found.get(`${trigger.table}\u0000${trigger.name}`);
    const what = `${trigger.event.toUpperCase()}s on ${schema}.${trigger.table} are not recorded in ferry.outbox, so in phase pg_primary they would not reach MongoDB`;
    if (actual === undefined)
      out.push({
        kind: 'capture_trigger_missing',
        schema,
        table: trigger.table,
        message: `table ${schema}.${trigger.table} lacks its capture trigger ${trigger.name}: ${what}`,
      });
    else if (!actual.enabled)
      out.push({
        kind: 'capture_trigger_disabled',
        schema,
        table: trigger.table,
        message: `table ${schema}.${trigger.table} has its capture trigger ${trigger.name} disabled: ${what}`,
      });
  }
  return out;
}

/** Append-only guards the mapping asks for and the tables lack, or that a table has and the mapping dropped. */
function appendOnlyDrift(schema: string, model: SchemaModel, catalog: CatalogSchema): Drift[] {
  const out: Drift[] = [];
  const has = new Set(catalog.triggers.map((t) => `${t.table}\u0000${t.name}`));
  const wanted = new Set(model.appendOnly.map((g) => `${g.table}\u0000${g.name}`));
  for (const guard of model.appendOnly) {
    if (catalog.tables.has(guard.table) && !has.has(`${guard.table}\u0000${guard.name}`))
      out.push({
        kind: 'append_only_missing',
        schema,
        table: guard.table,
        message: `table ${schema}.${guard.table} is append-only in the mapping but its trigger ${guard.name} is missing: UPDATE and DELETE are not refused`,
      });
  }
  for (const trigger of catalog.triggers) {
    const key = `${trigger.table}\u0000${trigger.name}`;
    if (trigger.name === APPEND_ONLY_TRIGGER && !wanted.has(key))
      out.push({
        kind: 'append_only_extra',
        schema,
        table: trigger.table,
        message: `table ${schema}.${trigger.table} refuses UPDATE and DELETE (trigger ${trigger.name}) but the mapping does not say appendOnly`,
      });
  }
  return out;
}

function constraintDrift(schema: string, model: SchemaModel, catalog: CatalogSchema): Drift[] {
  const out: Drift[] = [];
  const byName = new Map(catalog.constraints.map((c) => [`${c.table}\u0000${c.name}`, c]));
  // Constraints of a missing table are implied by `table_missing`; listing them too is noise.
  const expect = (
    table: string,
    name: string,
    what: string,
    same: (c: CatalogSchema['constraints'][number]) => boolean,
  ) => {
    if (!catalog.tables.has(table)) return;
    const found = byName.get(`${table}\u0000${name}`);
    if (found === undefined)
      out.push({
        kind: 'constraint_missing',
        schema,
        table,
        message: `${what} ${name} on ${schema}.${table} is missing`,
      });
    else if (!same(found))
      out.push({
        kind: 'constraint_changed',
        schema,
        table,
        message: `${what} ${name} on ${schema}.${table} differs from the mapping`,
      });
  };
  for (const table of model.tables)
    expect(
      table.name,
      table.primaryKey.name,
      'primary key',
      (c) => c.type === 'p' && sameList(c.columns, table.primaryKey.columns),
    );
  for (const fk of model.foreignKeys)
    expect(
      fk.table,
      fk.name,
      'foreign key',
      (c) =>
        c.type === 'f' &&
        sameList(c.columns, fk.columns) &&
        c.refTable === fk.refTable &&
        sameList(c.refColumns, fk.refColumns) &&
        c.onDelete === (fk.onDelete === 'cascade' ? 'c' : 'a'),
    );
  for (const check of model.checks) expect(check.table, check.name, 'check', (c) => c.type === 'c');
  return out;
}

function indexDrift(schema: string, model: SchemaModel, catalog: CatalogSchema): Drift[] {
  const out: Drift[] = [];
  const byName = new Map(catalog.indexes.map((i) => [i.name, i]));
  for (const index of model.indexes) {
    if (!catalog.tables.has(index.table)) continue;
    const found = byName.get(index.name);
    const where = { schema, table: index.table };
    if (found === undefined) {
      out.push({
        kind: 'index_missing',
        ...where,
        message: `index ${index.name} on ${schema}.${index.table} is missing`,
      });
      continue;
    }
    const keys = index.keys.map((k) => (k.kind === 'column' ? k.column : null));
    const same =
      found.table === index.table &&
      found.unique === index.unique &&
      found.method === index.method &&
      found.partial === (index.where !== undefined) &&
      sameList(found.keys, keys);
    if (!same)
      out.push({
        kind: 'index_changed',
        ...where,
        message: `index ${index.name} on ${schema}.${index.table} differs from the mapping`,
      });
  }
  return out;
}

function sameList(a: readonly (string | null)[], b: readonly (string | null)[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
