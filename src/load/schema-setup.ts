import type { Plan } from '../mapping/model.js';
import { buildSchema } from '../schema/build-schema.js';
import { ddlPhases } from '../schema/phases.js';
import type { SchemaModel } from '../schema/schema-model.js';
import { qualified } from '../schema/sql-text.js';
import { compileStatement, type DdlStatement } from '../schema/statements.js';
import type { Queryable, TargetDatabase } from '../target/target-database.js';

/**
 * The schema work around a backfill, on top of the schema compiler (src/schema): the
 * statements come from `ddlPhases`, and this module only decides which of them a target
 * schema still needs, so a backfill can run on an empty database, after `ferry schema apply`,
 * or again after itself, and never fails on "already exists" nor repeats work.
 */

/** Which collection each table belongs to (from the schema model). */
export function tableCollections(model: SchemaModel): ReadonlyMap<string, string> {
  return new Map(model.tables.map((t) => [t.name, t.collection]));
}

/**
 * Create what the load writes into, in one transaction per schema: the schema, the tables of
 * `collections` with their primary keys and checks. Returns the
 * statements it ran (empty when everything was there).
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await prepareSchema(db, plan, 'app', ['orders']);   // ['create schema if not exists "app"', 'create table …']
 */
export async function prepareSchema(
  db: TargetDatabase,
  plan: Plan,
  schema: string,
  collections: readonly string[],
): Promise<readonly string[]> {
  const model = buildSchema(plan);
  const owner = tableCollections(model);
  const wanted = new Set(collections);
  const inScope = (table: string) => wanted.has(owner.get(table) ?? '');
  const statements = ddlPhases(model).beforeLoad.filter((s) => {
    const table = statementTable(s);
    return table === undefined || inScope(table);
  });
  return db.transaction(async (tx) => {
    const ran: string[] = [];
    const created = new Set<string>();
    for (const statement of statements) {
      if (statement.kind === 'comment_on_table' && !created.has(statement.table)) continue;
      if (statement.kind !== 'comment_on_table' && (await exists(tx, schema, statement))) continue;
      const sql = compileStatement(statement, { kind: 'schema', name: schema });
      await tx.query(sql);
      if (statement.kind === 'create_table') created.add(statement.table.name);
      ran.push(sql);
    }
    return ran;
  });
}

/** An after-load statement that could not run, e.g. a foreign key that rejected rows break. */
export interface AfterLoadProblem {
  readonly schema: string;
  readonly statement: string;
  readonly message: string;
}

/**
 * The after-load statements of the schema (parent and reference foreign keys, secondary indexes, the
 * outbox's capture triggers, `analyze`) that `ready` allows: a foreign key once both of its
 * tables' collections are completely loaded, an index or a trigger once its table's collection is, `analyze` for tables that got
 * rows in this run. Each statement runs on its own, so one failing key (a reference to a
 * rejected document) is reported without holding back the indexes.
 */
export async function finishSchema(
  db: TargetDatabase,
  plan: Plan,
  schema: string,
  ready: (collection: string) => boolean,
  touched: ReadonlySet<string>,
): Promise<{ ran: readonly string[]; problems: readonly AfterLoadProblem[] }> {
  const model = buildSchema(plan);
  const owner = tableCollections(model);
  const isReady = (table: string) => ready(owner.get(table) ?? '');
  const ran: string[] = [];
  const problems: AfterLoadProblem[] = [];
  for (const statement of ddlPhases(model).afterLoad) {
    if (statement.kind === 'analyze') {
      if (!touched.has(statement.table)) continue;
    } else if (statement.kind === 'add_foreign_key') {
      if (!isReady(statement.foreignKey.table) || !isReady(statement.foreignKey.refTable)) continue;
    } else if (statement.kind === 'create_index') {
      if (!isReady(statement.index.table)) continue;
    } else if (statement.kind === 'create_capture_trigger') {
      // Like an index: only on a complete collection, so a resumed load's COPY does not
      // fire the triggers for every row.
      if (!isReady(statement.trigger.table)) continue;
    }
    if (statement.kind !== 'analyze' && (await exists(db, schema, statement))) continue;
    const sql = compileStatement(statement, { kind: 'schema', name: schema });
    try {
      await db.query(sql);
      ran.push(sql);
    } catch (error) {
      problems.push({
        schema,
        statement: sql,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { ran, problems };
}

/** The table a statement is about, when it is about one. */
function statementTable(statement: DdlStatement): string | undefined {
  switch (statement.kind) {
    case 'create_table':
      return statement.table.name;
    case 'add_foreign_key':
      return statement.foreignKey.table;
    case 'add_check':
      return statement.check.table;
    case 'create_index':
      return statement.index.table;
    case 'comment_on_table':
    case 'analyze':
      return statement.table;
    default:
      return undefined;
  }
}

/** Whether the object a creating statement makes is already in the schema. */
async function exists(db: Queryable, schema: string, statement: DdlStatement): Promise<boolean> {
  const target = { kind: 'schema', name: schema } as const;
  const relation = async (name: string) => {
    const { rows } = await db.query<{ found: boolean }>('select to_regclass($1) is not null as found', [
      qualified(target, name),
    ]);
    return rows[0]?.found === true;
  };
  const constraint = async (name: string) => {
    const { rows } = await db.query(
      `select 1 from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = $1 and c.conname = $2`,
      [schema, name],
    );
    return rows.length > 0;
  };
  switch (statement.kind) {
    case 'create_schema': {
      const { rows } = await db.query('select 1 from pg_namespace where nspname = $1', [schema]);
      return rows.length > 0;
    }
    case 'create_table':
      return relation(statement.table.name);
    case 'create_index':
      return relation(statement.index.name);
    case 'add_foreign_key':
      return constraint(statement.foreignKey.name);
    case 'add_check':
      return constraint(statement.check.name);
    default:
      return false;
  }
}
