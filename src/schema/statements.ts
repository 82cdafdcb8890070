import { quoteIdent } from '../mapping/model.js';
import type {
  AppendOnlyGuard,
  CaptureTriggerDef,
  CheckDef,
  ColumnDef,
  ForeignKeyDef,
  IndexDef,
  IndexKey,
  TableDef,
} from './schema-model.js';
import { qualified, quoteLiteral, type SchemaTarget, schemaRef } from './sql-text.js';
import { isWidening } from './widening.js';

/**
 * One DDL statement as data. Plans and diffs produce these; only `compileStatement` turns
 * them into SQL, in one exhaustive switch, so adding a kind without its SQL does not compile.
 *
 * @example
 * const statement: DdlStatement = { kind: 'analyze', table: 'orders' };
 * renderSql([statement], { kind: 'schema', name: 'public' });
 */
export type DdlStatement =
  | { readonly kind: 'create_schema' }
  | { readonly kind: 'create_table'; readonly table: TableDef }
  | { readonly kind: 'comment_on_table'; readonly table: string; readonly text: string }
  | { readonly kind: 'add_column'; readonly table: string; readonly column: ColumnDef }
  | { readonly kind: 'add_foreign_key'; readonly foreignKey: ForeignKeyDef }
  | { readonly kind: 'add_check'; readonly check: CheckDef }
  | { readonly kind: 'create_index'; readonly index: IndexDef }
  | { readonly kind: 'analyze'; readonly table: string }
  | { readonly kind: 'drop_table'; readonly table: string }
  | { readonly kind: 'drop_column'; readonly table: string; readonly column: string }
  | {
      readonly kind: 'alter_column_type';
      readonly table: string;
      readonly column: string;
      /** The type the column has now; a widening (see widening.ts) is not destructive. */
      readonly from: string;
      readonly pgType: string;
    }
  | { readonly kind: 'rename_column'; readonly table: string; readonly from: string; readonly to: string }
  | {
      readonly kind: 'set_nullable';
      readonly table: string;
      readonly column: string;
      readonly nullable: boolean;
    }
  | { readonly kind: 'drop_constraint'; readonly table: string; readonly name: string }
  | { readonly kind: 'drop_index'; readonly name: string }
  | { readonly kind: 'create_append_only_function' }
  | { readonly kind: 'create_append_only_guard'; readonly guard: AppendOnlyGuard }
  | { readonly kind: 'drop_append_only_guard'; readonly guard: AppendOnlyGuard }
  | { readonly kind: 'create_capture_trigger'; readonly trigger: CaptureTriggerDef }
  | { readonly kind: 'drop_trigger'; readonly table: string; readonly name: string };

/**
 * The trigger every append-only table gets; trigger names are per table, so one name serves all.
 *
 * @example
 * declare const db: TargetDatabase;
 * await db.query('select tgrelid::regclass from pg_trigger where tgname = $1', [APPEND_ONLY_TRIGGER]);
 */
export const APPEND_ONLY_TRIGGER = 'ferry_append_only';

/**
 * The SQLSTATE an append-only table answers UPDATE and DELETE with. Class `FE` is no class
 * PostgreSQL uses, so a client can tell this refusal from any other error.
 *
 * @example
 * import type pg from 'pg';
 * declare const client: pg.Client;
 * await client.query('update ledger set amount = 0').catch((error: { code?: string }) => {
 *   if (error.code === APPEND_ONLY_SQLSTATE) console.log('the ledger is append-only; insert a correction');
 * });
 */
export const APPEND_ONLY_SQLSTATE = 'FERAO';

/** The function behind the trigger, one per target schema. */
const APPEND_ONLY_FUNCTION = 'ferry_refuse_append_only_change';

/**
 * Every creating statement is idempotent and converges on the plan: the backfill creates
 * tables, indexes and constraints itself when it needs them, and a user may run
 * `ferry schema apply` before or after it. `if not exists` covers tables, columns and
 * indexes (drift is caught by `schema check`, not by a failing apply); constraints, which
 * have no `if not exists`, are dropped if present and added in the same statement, so a
 * re-run leaves exactly the planned definition. Plain SQL, so the files still run in psql.
 */
function replaceConstraint(name: string): string {
  return `drop constraint if exists ${quoteIdent(name)}, add constraint ${quoteIdent(name)}`;
}

/**
 * The SQL of one statement, without the trailing semicolon. Every identifier is quoted and
 * every table schema-qualified with `target`.
 *
 * @example
 * compileStatement({ kind: 'analyze', table: 'users' }, { kind: 'schema', name: 'app' })
 * // 'analyze "app"."users"'
 */
export function compileStatement(statement: DdlStatement, target: SchemaTarget): string {
  const t = (name: string) => qualified(target, name);
  switch (statement.kind) {
    case 'create_schema':
      return `create schema if not exists ${schemaRef(target)}`;
    case 'create_table': {
      const { table } = statement;
      const lines = table.columns.map((c) => `  ${columnSql(c)}`);
      lines.push(
        `  constraint ${quoteIdent(table.primaryKey.name)} primary key (${identList(table.primaryKey.columns)})`,
      );
      return `create table if not exists ${t(table.name)} (\n${lines.join(',\n')}\n)`;
    }
    case 'comment_on_table':
      return `comment on table ${t(statement.table)} is ${quoteLiteral(statement.text)}`;
    case 'add_column':
      return `alter table ${t(statement.table)} add column if not exists ${columnSql(statement.column)}`;
    case 'add_foreign_key': {
      const fk = statement.foreignKey;
      const onDelete = fk.onDelete === 'cascade' ? ' on delete cascade' : '';
      return (
        `alter table ${t(fk.table)} ${replaceConstraint(fk.name)} foreign key (${identList(fk.columns)})` +
        ` references ${t(fk.refTable)} (${identList(fk.refColumns)})${onDelete}`
      );
    }
    case 'add_check':
      return `alter table ${t(statement.check.table)} ${replaceConstraint(statement.check.name)} check (${statement.check.expression})`;
    case 'create_index': {
      const { index } = statement;
      const unique = index.unique ? 'unique ' : '';
      const where = index.where === undefined ? '' : ` where ${index.where}`;
      // MongoDB's unique index lets one document lack the field (missing counts as null);
      // PostgreSQL would let any number of NULLs through. Sparse and partial indexes skip
      // those documents in both, so only the full unique index needs the stricter rule.
      const nulls = index.unique && index.where === undefined ? ' nulls not distinct' : '';
      return `create ${unique}index if not exists ${quoteIdent(index.name)} on ${t(index.table)} using ${index.method} (${index.keys.map(keySql).join(', ')})${nulls}${where}`;
    }
    case 'analyze':
      return `analyze ${t(statement.table)}`;
    case 'drop_table':
      return `drop table ${t(statement.table)}`;
    case 'drop_column':
      return `alter table ${t(statement.table)} drop column ${quoteIdent(statement.column)}`;
    case 'alter_column_type': {
      const column = quoteIdent(statement.column);
      return `alter table ${t(statement.table)} alter column ${column} type ${statement.pgType} using ${column}::${statement.pgType}`;
    }
    case 'rename_column':
      return `alter table ${t(statement.table)} rename column ${quoteIdent(statement.from)} to ${quoteIdent(statement.to)}`;
    case 'set_nullable':
      return `alter table ${t(statement.table)} alter column ${quoteIdent(statement.column)} ${statement.nullable ? 'drop' : 'set'} not null`;
    case 'drop_constraint':
      return `alter table ${t(statement.table)} drop constraint ${quoteIdent(statement.name)}`;
    case 'drop_index':
      return `drop index ${qualified(target, statement.name)}`;
    case 'create_append_only_function':
      // One statement each (PGlite runs a statement through the extended protocol, which
      // takes one command), and idempotent, like every creating statement.
      return `create or replace function ${qualified(target, APPEND_ONLY_FUNCTION)}() returns trigger language plpgsql as $ferry$
begin
  raise exception using
    errcode = '${APPEND_ONLY_SQLSTATE}',
    message = format('table %I.%I is append-only: %s is refused', tg_table_schema, tg_table_name, tg_op),
    hint = 'its collection is mapped with appendOnly: true; insert a correcting entry instead of changing one';
end
$ferry$`;
    case 'create_append_only_guard':
      // `create or replace trigger` needs PostgreSQL 14; it keeps the statement single and re-runnable.
      return `create or replace trigger ${quoteIdent(statement.guard.name)} before update or delete on ${t(statement.guard.table)} for each row execute function ${qualified(target, APPEND_ONLY_FUNCTION)}()`;
    case 'drop_append_only_guard':
      return `drop trigger if exists ${quoteIdent(statement.guard.name)} on ${t(statement.guard.table)}`;
    case 'create_capture_trigger': {
      // Row-level, through the per-key-column function state step 19 generates (it reads the
      // key column itself: no transition table, no row turned into jsonb). The install
      // replaces a trigger of the same name, so a re-run is idempotent.
      const { trigger } = statement;
      // The table is named in identifier position (its row type), not inside a literal, so
      // the schema placeholder of a migration file is bound there like everywhere else.
      const table = `(select typrelid::regclass from pg_type where oid = pg_typeof(null::${t(trigger.table)}))`;
      const install =
        `perform ferry.outbox_install_capture(${table}, ` +
        `${quoteLiteral(trigger.name)}, ${quoteLiteral(trigger.event)}, ` +
        `${quoteLiteral(trigger.collection)}, ${quoteLiteral(trigger.keyColumn)})`;
      // The trigger calls Ferry's state (schema ferry, set up before every apply and load).
      // The plan's SQL run by hand where Ferry never set it up has no outbox to feed: there
      // the statement does nothing, instead of failing the script.
      return `do $ferry_capture$ begin if to_regprocedure('ferry.outbox_install_capture(regclass, text, text, text, text)') is not null then ${install}; end if; end $ferry_capture$`;
    }
    case 'drop_trigger':
      return `drop trigger if exists ${quoteIdent(statement.name)} on ${t(statement.table)}`;
    default:
      return assertNever(statement);
  }
}

/**
 * Statements as one SQL script, one statement per paragraph.
 *
 * @example
 * declare const phases: DdlPhases;
 * renderSql(phases.beforeLoad, { kind: 'schema', name: 'public' });
 */
export function renderSql(statements: readonly DdlStatement[], target: SchemaTarget): string {
  return statements.map((s) => `${compileStatement(s, target)};\n`).join('\n');
}

/** Whether a statement can lose data or break a running application. */
export function isDestructive(statement: DdlStatement): boolean {
  switch (statement.kind) {
    case 'drop_table':
    case 'drop_column':
    case 'drop_constraint':
    case 'drop_index':
      return true;
    case 'alter_column_type':
      return !isWidening(statement.from, statement.pgType);
    case 'set_nullable':
      return !statement.nullable;
    default:
      return false;
  }
}

function columnSql(column: ColumnDef): string {
  // pgType comes from a validated plan (parsePgType accepts a closed set), so it is safe to inline.
  return `${quoteIdent(column.name)} ${column.pgType}${column.nullable ? '' : ' not null'}`;
}

function keySql(key: IndexKey): string {
  return key.kind === 'column' ? `${quoteIdent(key.column)}${key.descending ? ' desc' : ''}` : `(${key.sql})`;
}

function identList(names: readonly string[]): string {
  return names.map(quoteIdent).join(', ');
}

function assertNever(value: never): never {
  throw new Error(`unhandled DDL statement ${JSON.stringify(value)}`);
}
