import type { SchemaModel } from './schema-model.js';
import type { DdlStatement } from './statements.js';

/**
 * The DDL of a schema in the two phases a backfill needs:
 * - `beforeLoad`: the schema, tables with primary keys, table comments and discriminator
 *   checks (they catch a mapping bug on the first row instead of after the load);
 * - `afterLoad`: every foreign key: child→parent ones (each child row loaded under one costs
 *   PostgreSQL a lookup of its parent, which doubled the time to COPY the 1.1M item rows of
 *   200k sales; validating them after the load is one join) and reference ones (cycles
 *   included: only now can they all hold), secondary indexes (one sort at the end beats
 *   maintaining them row by row), the outbox's
 *   capture triggers (a backfill's COPY would otherwise fire them for every row, for
 *   nothing), `analyze`.
 *
 * @example
 * declare const plan: Plan;
 * declare const db: TargetDatabase;
 * const { beforeLoad, afterLoad } = ddlPhases(buildSchema(plan));
 * await db.query(renderSql(beforeLoad, { kind: 'schema', name: 'app' }));
 */
export interface DdlPhases {
  readonly beforeLoad: readonly DdlStatement[];
  readonly afterLoad: readonly DdlStatement[];
}

/** Split a schema model's DDL into the phases around the load. See {@link DdlPhases}. */
export function ddlPhases(model: SchemaModel): DdlPhases {
  const beforeLoad: DdlStatement[] = [{ kind: 'create_schema' }];
  for (const table of model.tables) {
    beforeLoad.push({ kind: 'create_table', table });
    beforeLoad.push({
      kind: 'comment_on_table',
      table: table.name,
      text: `ferry: collection ${table.collection}`,
    });
  }
  for (const check of model.checks) beforeLoad.push({ kind: 'add_check', check });
  // Before the load: the backfill only inserts, and a guard that exists from the first row
  // on cannot miss a change made while the load runs.
  if (model.appendOnly.length > 0) beforeLoad.push({ kind: 'create_append_only_function' });
  for (const guard of model.appendOnly) beforeLoad.push({ kind: 'create_append_only_guard', guard });

  const afterLoad: DdlStatement[] = [];
  // Parents first (model order), then references.
  for (const kind of ['parent', 'reference'] as const)
    for (const foreignKey of model.foreignKeys)
      if (foreignKey.kind === kind) afterLoad.push({ kind: 'add_foreign_key', foreignKey });
  for (const index of model.indexes) afterLoad.push({ kind: 'create_index', index });
  for (const trigger of model.captureTriggers) afterLoad.push({ kind: 'create_capture_trigger', trigger });
  for (const table of model.tables) afterLoad.push({ kind: 'analyze', table: table.name });
  return { beforeLoad, afterLoad };
}
