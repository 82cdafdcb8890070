import type { ColumnDef, ForeignKeyDef, SchemaModel, TableDef } from './schema-model.js';
import { type DdlStatement, isDestructive } from './statements.js';

/** The DDL that turns one schema model into another, split like `DdlPhases`. */
export interface SchemaDiff {
  readonly beforeLoad: readonly DdlStatement[];
  readonly afterLoad: readonly DdlStatement[];
  /** Human descriptions of the statements that can lose data; empty for an additive change. */
  readonly destructive: readonly string[];
}

/**
 * Diff two schema models into DDL statements (drizzle-kit's "diff the data, then compile").
 * Additive changes (new tables, columns, keys, checks, indexes; a column becoming nullable)
 * are plain statements. Changes that can lose data or break the application (dropped
 * tables or columns, changed types, a column becoming NOT NULL, changed or dropped
 * constraints and indexes) are also produced, and listed in `destructive`, so the caller can
 * refuse them unless forced. A table whose primary key changed is dropped and re-created.
 *
 * @example
 * declare const oldPlan: Plan;
 * declare const newPlan: Plan;
 * declare const force: boolean;
 * const diff = diffSchemas(buildSchema(oldPlan), buildSchema(newPlan));
 * if (diff.destructive.length > 0 && !force) throw new Error('the new mapping drops data; pass --force');
 */
export function diffSchemas(from: SchemaModel, to: SchemaModel): SchemaDiff {
  const before: DdlStatement[] = [];
  const after: DdlStatement[] = [];
  const drops: DdlStatement[] = [];
  const oldTables = new Map(from.tables.map((t) => [t.name, t]));
  const newTables = new Map(to.tables.map((t) => [t.name, t]));
  const recreated = new Set(
    to.tables
      .filter((t) => {
        const old = oldTables.get(t.name);
        return old !== undefined && sameJson(old.primaryKey, t.primaryKey) === false;
      })
      .map((t) => t.name),
  );

  // Constraints and indexes go first: a dropped table or column may be what they hold on to.
  const fkKey = (fk: ForeignKeyDef) =>
    JSON.stringify([fk.table, fk.columns, fk.refTable, fk.refColumns, fk.onDelete]);
  const newFks = new Map(to.foreignKeys.map((fk) => [fk.name, fkKey(fk)]));
  for (const fk of [...from.foreignKeys].reverse()) {
    const gone = !newTables.has(fk.table) || recreated.has(fk.table);
    if (!gone && newFks.get(fk.name) !== fkKey(fk))
      drops.push({ kind: 'drop_constraint', table: fk.table, name: fk.name });
  }
  const newChecks = new Map(to.checks.map((c) => [c.name, JSON.stringify(c)]));
  for (const check of from.checks) {
    const gone = !newTables.has(check.table) || recreated.has(check.table);
    if (!gone && newChecks.get(check.name) !== JSON.stringify(check))
      drops.push({ kind: 'drop_constraint', table: check.table, name: check.name });
  }
  const newIndexes = new Map(to.indexes.map((i) => [i.name, indexKey(i)]));
  for (const index of from.indexes) {
    const gone = !newTables.has(index.table) || recreated.has(index.table);
    if (!gone && newIndexes.get(index.name) !== indexKey(index))
      drops.push({ kind: 'drop_index', name: index.name });
  }
  for (const table of [...from.tables].reverse()) {
    if (!newTables.has(table.name) || recreated.has(table.name))
      drops.push({ kind: 'drop_table', table: table.name });
  }
  before.push(...drops);

  for (const table of to.tables) {
    const old = oldTables.get(table.name);
    if (old === undefined || recreated.has(table.name)) {
      before.push({ kind: 'create_table', table });
      before.push({
        kind: 'comment_on_table',
        table: table.name,
        text: `ferry: collection ${table.collection}`,
      });
      continue;
    }
    before.push(...columnChanges(old, table));
  }
  const fresh = (table: string) => !oldTables.has(table) || recreated.has(table);
  const oldFks = new Map(from.foreignKeys.map((fk) => [fk.name, fkKey(fk)]));
  for (const foreignKey of to.foreignKeys) {
    if (!fresh(foreignKey.table) && oldFks.get(foreignKey.name) === fkKey(foreignKey)) continue;
    (foreignKey.kind === 'parent' ? before : after).push({ kind: 'add_foreign_key', foreignKey });
  }
  const oldChecks = new Map(from.checks.map((c) => [c.name, JSON.stringify(c)]));
  for (const check of to.checks) {
    if (fresh(check.table) || oldChecks.get(check.name) !== JSON.stringify(check))
      before.push({ kind: 'add_check', check });
  }
  const oldIndexes = new Map(from.indexes.map((i) => [i.name, indexKey(i)]));
  for (const index of to.indexes) {
    if (fresh(index.table) || oldIndexes.get(index.name) !== indexKey(index))
      after.push({ kind: 'create_index', index });
  }

  const destructive = [...before, ...after].filter(isDestructive).map(describe);
  return { beforeLoad: before, afterLoad: after, destructive };
}

function columnChanges(old: TableDef, table: TableDef): DdlStatement[] {
  const out: DdlStatement[] = [];
  const oldColumns = new Map(old.columns.map((c) => [c.name, c]));
  const newNames = new Set(table.columns.map((c) => c.name));
  for (const column of old.columns) {
    if (!newNames.has(column.name)) out.push({ kind: 'drop_column', table: table.name, column: column.name });
  }
  for (const column of table.columns) {
    const was: ColumnDef | undefined = oldColumns.get(column.name);
    if (was === undefined) {
      out.push({ kind: 'add_column', table: table.name, column });
      continue;
    }
    if (was.pgType !== column.pgType)
      out.push({ kind: 'alter_column_type', table: table.name, column: column.name, pgType: column.pgType });
    if (was.nullable !== column.nullable)
      out.push({ kind: 'set_nullable', table: table.name, column: column.name, nullable: column.nullable });
  }
  return out;
}

function indexKey(index: SchemaModel['indexes'][number]): string {
  // `source` names the MongoDB index only for messages; renaming it there changes no DDL.
  return JSON.stringify([index.table, index.method, index.keys, index.unique, index.where ?? null]);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(statement: DdlStatement): string {
  switch (statement.kind) {
    case 'drop_table':
      return `drop table ${statement.table}`;
    case 'drop_column':
      return `drop column ${statement.table}.${statement.column}`;
    case 'alter_column_type':
      return `change the type of ${statement.table}.${statement.column} to ${statement.pgType}`;
    case 'set_nullable':
      return `make ${statement.table}.${statement.column} NOT NULL`;
    case 'drop_constraint':
      return `drop or replace constraint ${statement.name} on ${statement.table}`;
    case 'drop_index':
      return `drop or replace index ${statement.name}`;
    default:
      return statement.kind;
  }
}
