import { quoteIdent } from '../mapping/model.js';
import type {
  AppendOnlyGuard,
  CaptureTriggerDef,
  ColumnDef,
  ForeignKeyDef,
  SchemaModel,
  TableDef,
} from './schema-model.js';
import { type DdlStatement, isDestructive } from './statements.js';
import { isWidening } from './widening.js';

/** A collection whose loaded rows must be loaded again from the source after the change. */
export interface Reload {
  readonly collection: string;
  readonly reason: string;
}

/** The DDL that turns one schema model into another, split like `DdlPhases`. */
export interface SchemaDiff {
  readonly beforeLoad: readonly DdlStatement[];
  readonly afterLoad: readonly DdlStatement[];
  /** Human descriptions of the statements that can lose data; empty for an additive change. */
  readonly destructive: readonly string[];
  /**
   * Collections whose rows do not fill the new schema: a new column or table of a loaded
   * collection (its values sit in `_extra` or were never read), or tables re-created
   * because their change cannot be an ALTER. Only these are loaded again, never the rest.
   */
  readonly reloads: readonly Reload[];
}

/**
 * Diff two schema models into DDL statements (drizzle-kit's "diff the data, then compile").
 * Additive changes (new tables, columns, keys, checks, indexes; a column becoming nullable),
 * renames declared with `renamedFrom` (the data stays) and widened types (integer to bigint
 * to numeric: see widening.ts) are plain, safe statements. A table whose change cannot be an
 * ALTER (a new primary key, a type that is not a widening, a new NOT NULL column) is dropped
 * and re-created with the rest of its collection, which `reloads` then names. Changes that
 * can lose data (dropped tables or columns, narrowed types, a column becoming NOT NULL,
 * changed or dropped constraints and indexes) are listed in `destructive`, so the caller can
 * ask first.
 *
 * @example
 * declare const oldPlan: Plan;
 * declare const newPlan: Plan;
 * declare const force: boolean;
 * const diff = diffSchemas(buildSchema(oldPlan), buildSchema(newPlan));
 * declare const confirmed: boolean;
 * if (diff.destructive.length > 0 && !confirmed) throw new Error('the new mapping drops data; confirm with --yes');
 */
export function diffSchemas(snapshot: SchemaModel, to: SchemaModel): SchemaDiff {
  const renames = columnRenames(snapshot, to);
  // Compare against the old schema as it is after the renames, so an index or key over a
  // renamed column (which PostgreSQL renames with it) is not seen as changed.
  const from = applyRenames(snapshot, renames);
  const before: DdlStatement[] = [];
  const after: DdlStatement[] = [];
  const drops: DdlStatement[] = [];
  const oldTables = new Map(from.tables.map((t) => [t.name, t]));
  const newTables = new Map(to.tables.map((t) => [t.name, t]));
  const changed = collectionsToRecreate(oldTables, to);
  const recreated = new Set(
    to.tables.filter((t) => oldTables.has(t.name) && changed.has(t.collection)).map((t) => t.name),
  );
  const gone = (table: string) => !newTables.has(table) || recreated.has(table);

  // Constraints and indexes go first: a dropped table or column may be what they hold on to.
  const fkKey = (fk: ForeignKeyDef) =>
    JSON.stringify([fk.table, fk.columns, fk.refTable, fk.refColumns, fk.onDelete]);
  const newFks = new Map(to.foreignKeys.map((fk) => [fk.name, fkKey(fk)]));
  for (const fk of [...from.foreignKeys].reverse()) {
    // A key into a re-created table would stop its drop; it comes back after the reload.
    if (!gone(fk.table) && (newFks.get(fk.name) !== fkKey(fk) || recreated.has(fk.refTable)))
      drops.push({ kind: 'drop_constraint', table: fk.table, name: fk.name });
  }
  const newChecks = new Map(to.checks.map((c) => [c.name, JSON.stringify(c)]));
  for (const check of from.checks) {
    if (!gone(check.table) && newChecks.get(check.name) !== JSON.stringify(check))
      drops.push({ kind: 'drop_constraint', table: check.table, name: check.name });
  }
  const newIndexes = new Map(to.indexes.map((i) => [i.name, indexKey(i)]));
  for (const index of from.indexes) {
    if (!gone(index.table) && newIndexes.get(index.name) !== indexKey(index))
      drops.push({ kind: 'drop_index', name: index.name });
  }
  for (const table of [...from.tables].reverse()) {
    if (gone(table.name)) drops.push({ kind: 'drop_table', table: table.name });
  }
  before.push(...drops);

  const reloads = new Map<string, string>();
  const reload = (collection: string, reason: string) => {
    if (!reloads.has(collection)) reloads.set(collection, reason);
  };
  const loadedBefore = new Set(from.tables.map((t) => t.collection));
  for (const table of to.tables) {
    const old = oldTables.get(table.name);
    if (old === undefined || recreated.has(table.name)) {
      before.push({ kind: 'create_table', table });
      before.push({
        kind: 'comment_on_table',
        table: table.name,
        text: `ferry: collection ${table.collection}`,
      });
      if (recreated.has(table.name)) reload(table.collection, `table ${table.name} is re-created`);
      else if (loadedBefore.has(table.collection)) reload(table.collection, `new table ${table.name}`);
      continue;
    }
    const changes = columnChanges(old, table, renames);
    before.push(...changes);
    const added = changes.find((c) => c.kind === 'add_column');
    if (added?.kind === 'add_column')
      reload(table.collection, `new column ${table.name}.${added.column.name}`);
  }
  const fresh = (table: string) => !oldTables.has(table) || recreated.has(table);
  const oldFks = new Map(from.foreignKeys.map((fk) => [fk.name, fkKey(fk)]));
  for (const foreignKey of to.foreignKeys) {
    const same = oldFks.get(foreignKey.name) === fkKey(foreignKey);
    if (same && !fresh(foreignKey.table) && !fresh(foreignKey.refTable)) continue;
    // After the load, as ddlPhases places them: a parent key checked per loaded row costs more than one join afterwards.
    after.push({ kind: 'add_foreign_key', foreignKey });
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

  const guardKey = (g: AppendOnlyGuard) => `${g.table}\u0000${g.name}`;
  const oldGuards = new Set(from.appendOnly.map(guardKey));
  const newGuards = new Set(to.appendOnly.map(guardKey));
  for (const guard of from.appendOnly)
    if (!gone(guard.table) && !newGuards.has(guardKey(guard)))
      before.push({ kind: 'drop_append_only_guard', guard });
  const guardsToCreate = to.appendOnly.filter((g) => fresh(g.table) || !oldGuards.has(guardKey(g)));
  if (guardsToCreate.length > 0) before.push({ kind: 'create_append_only_function' });
  for (const guard of guardsToCreate) before.push({ kind: 'create_append_only_guard', guard });
  // Capture triggers: new on fresh tables, replaced when their definition changed (a renamed
  // key column), dropped from tables that stay when the model no longer has them.
  const triggerKey = (t: CaptureTriggerDef) => `${t.table}\u0000${t.name}`;
  const oldTriggers = new Map(from.captureTriggers.map((t) => [triggerKey(t), JSON.stringify(t)]));
  const newTriggers = new Set(to.captureTriggers.map(triggerKey));
  for (const trigger of from.captureTriggers) {
    if (!gone(trigger.table) && !newTriggers.has(triggerKey(trigger)))
      after.push({ kind: 'drop_trigger', table: trigger.table, name: trigger.name });
  }
  for (const trigger of to.captureTriggers) {
    if (fresh(trigger.table) || oldTriggers.get(triggerKey(trigger)) !== JSON.stringify(trigger))
      after.push({ kind: 'create_capture_trigger', trigger });
  }

  const destructive = [...before, ...after].filter(isDestructive).map(describeStatement);
  return {
    beforeLoad: before,
    afterLoad: after,
    destructive,
    reloads: [...reloads].map(([collection, reason]) => ({ collection, reason })),
  };
}

/**
 * Collections with a table whose change cannot be an ALTER on loaded rows: a new primary
 * key, a type change that is not a widening, or a new NOT NULL column (it has no value for
 * the rows already there). The whole collection is re-created, since its child tables key on
 * the parent's rows.
 */
function collectionsToRecreate(oldTables: ReadonlyMap<string, TableDef>, to: SchemaModel): Set<string> {
  const out = new Set<string>();
  for (const table of to.tables) {
    const old = oldTables.get(table.name);
    if (old === undefined) continue;
    const oldColumns = new Map(old.columns.map((c) => [c.name, c]));
    const cannotAlter =
      !sameJson(old.primaryKey, table.primaryKey) ||
      table.columns.some((column) => {
        const was = oldColumns.get(column.name);
        return was === undefined ? !column.nullable : !isWidening(was.pgType, column.pgType);
      });
    if (cannotAlter) out.add(table.collection);
  }
  return out;
}

interface ColumnRename {
  readonly table: string;
  readonly from: string;
  readonly to: string;
}

/** Renames declared with `renamedFrom` that the old schema can still take: it has the old name, not the new. */
function columnRenames(from: SchemaModel, to: SchemaModel): ColumnRename[] {
  const out: ColumnRename[] = [];
  const oldTables = new Map(from.tables.map((t) => [t.name, t]));
  for (const table of to.tables) {
    const old = oldTables.get(table.name);
    if (old === undefined) continue;
    const has = (name: string) => old.columns.some((c) => c.name === name);
    for (const column of table.columns) {
      if (column.renamedFrom !== undefined && has(column.renamedFrom) && !has(column.name))
        out.push({ table: table.name, from: column.renamedFrom, to: column.name });
    }
  }
  return out;
}

/** The old schema with the renames applied to its columns, keys, checks and indexes. */
function applyRenames(model: SchemaModel, renames: readonly ColumnRename[]): SchemaModel {
  if (renames.length === 0) return model;
  const rename = (table: string, column: string) =>
    renames.find((r) => r.table === table && r.from === column)?.to ?? column;
  const renameIn = (table: string, sql: string) =>
    renames
      .filter((r) => r.table === table)
      .reduce((text, r) => text.replaceAll(quoteIdent(r.from), quoteIdent(r.to)), sql);
  return {
    ...model,
    tables: model.tables.map((t) => ({
      ...t,
      columns: t.columns.map((c) => ({ ...c, name: rename(t.name, c.name) })),
      primaryKey: { ...t.primaryKey, columns: t.primaryKey.columns.map((c) => rename(t.name, c)) },
    })),
    foreignKeys: model.foreignKeys.map((fk) => ({
      ...fk,
      columns: fk.columns.map((c) => rename(fk.table, c)),
      refColumns: fk.refColumns.map((c) => rename(fk.refTable, c)),
    })),
    checks: model.checks.map((c) => ({ ...c, expression: renameIn(c.table, c.expression) })),
    indexes: model.indexes.map((i) => ({
      ...i,
      keys: i.keys.map((k) => (k.kind === 'column' ? { ...k, column: rename(i.table, k.column) } : k)),
      ...(i.where === undefined ? {} : { where: renameIn(i.table, i.where) }),
    })),
  };
}

function columnChanges(old: TableDef, table: TableDef, renames: readonly ColumnRename[]): DdlStatement[] {
  const out: DdlStatement[] = [];
  const oldColumns = new Map(old.columns.map((c) => [c.name, c]));
  const newNames = new Set(table.columns.map((c) => c.name));
  for (const column of old.columns) {
    if (!newNames.has(column.name)) out.push({ kind: 'drop_column', table: table.name, column: column.name });
  }
  for (const r of renames) {
    if (r.table === table.name) out.push({ kind: 'rename_column', table: r.table, from: r.from, to: r.to });
  }
  for (const column of table.columns) {
    const was: ColumnDef | undefined = oldColumns.get(column.name);
    if (was === undefined) {
      out.push({ kind: 'add_column', table: table.name, column });
      continue;
    }
    if (was.pgType !== column.pgType)
      out.push({
        kind: 'alter_column_type',
        table: table.name,
        column: column.name,
        from: was.pgType,
        pgType: column.pgType,
      });
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

/**
 * One statement as a person reads it in the list `schema apply` shows before it runs.
 *
 * @example
 * describeStatement({ kind: 'rename_column', table: 'orders', from: 'qty', to: 'quantity' })
 * // 'rename column orders.qty to quantity (the data stays)'
 */
export function describeStatement(statement: DdlStatement): string {
  switch (statement.kind) {
    case 'create_schema':
      return 'create the schema';
    case 'create_table':
      return `create table ${statement.table.name}`;
    case 'comment_on_table':
      return `comment on table ${statement.table}`;
    case 'add_column':
      return `add column ${statement.table}.${statement.column.name} ${statement.column.pgType}${statement.column.nullable ? '' : ' not null'}`;
    case 'add_foreign_key':
      return `add foreign key ${statement.foreignKey.name} on ${statement.foreignKey.table}`;
    case 'add_check':
      return `add check ${statement.check.name} on ${statement.check.table}`;
    case 'create_index':
      return `create index ${statement.index.name} on ${statement.index.table}`;
    case 'analyze':
      return `analyze ${statement.table}`;
    case 'drop_table':
      return `drop table ${statement.table}`;
    case 'drop_column':
      return `drop column ${statement.table}.${statement.column}`;
    case 'rename_column':
      return `rename column ${statement.table}.${statement.from} to ${statement.to} (the data stays)`;
    case 'alter_column_type':
      if (/^timestamptz\(\d\)/.test(statement.pgType) && isWidening(statement.from, statement.pgType))
        return `round ${statement.table}.${statement.column} to the milliseconds a date holds (${statement.from} to ${statement.pgType}; every date Ferry wrote stays as it is)`;
      return isWidening(statement.from, statement.pgType)
        ? `widen ${statement.table}.${statement.column} from ${statement.from} to ${statement.pgType}`
        : `change the type of ${statement.table}.${statement.column} from ${statement.from} to ${statement.pgType}`;
    case 'set_nullable':
      return statement.nullable
        ? `make ${statement.table}.${statement.column} nullable`
        : `make ${statement.table}.${statement.column} NOT NULL`;
    case 'drop_constraint':
      return `drop or replace constraint ${statement.name} on ${statement.table}`;
    case 'drop_index':
      return `drop or replace index ${statement.name}`;
    case 'create_append_only_function':
      return 'create the function behind append-only tables';
    case 'create_append_only_guard':
      return `make ${statement.guard.table} append-only (UPDATE and DELETE refused)`;
    case 'drop_append_only_guard':
      return `let ${statement.guard.table} be updated and deleted again (no longer append-only)`;
    case 'create_capture_trigger':
      return `capture ${statement.trigger.event}s on ${statement.trigger.table} into the outbox (collection ${statement.trigger.collection})`;
    case 'drop_trigger':
      return `drop trigger ${statement.name} on ${statement.table}`;
    default:
      return assertNever(statement);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled DDL statement ${JSON.stringify(value)}`);
}
