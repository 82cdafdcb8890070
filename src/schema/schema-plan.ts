import { FerryError } from '../core/errors.js';
import type { Plan } from '../mapping/model.js';
import { parsePlan } from '../mapping/validate-plan.js';
import { buildSchema } from './build-schema.js';
import { ddlPhases } from './phases.js';
import type { IndexDef, SchemaModel, SchemaWarning, TtlRule } from './schema-model.js';
import { renderSql } from './statements.js';

/** What `ferry plan` reports, as data (`--json` prints exactly this). */
export interface SchemaPlanReport {
  readonly schema: string;
  readonly loadOrder: readonly string[];
  /** Reference keys that close a cycle; created after the load, when every row is there. */
  readonly deferredConstraints: readonly {
    readonly name: string;
    readonly table: string;
    readonly columns: readonly string[];
    readonly refTable: string;
  }[];
  readonly indexes: readonly IndexDef[];
  readonly ttl: readonly TtlRule[];
  readonly warnings: readonly SchemaWarning[];
  readonly sql: { readonly beforeLoad: string; readonly afterLoad: string };
}

/**
 * The report of `ferry plan` for one target schema.
 *
 * @example
 * declare const plan: Plan;
 * const report = schemaPlanReport(buildSchema(plan), 'app');
 * console.log(report.sql.beforeLoad);
 */
export function schemaPlanReport(model: SchemaModel, schema: string): SchemaPlanReport {
  const phases = ddlPhases(model);
  const target = { kind: 'schema', name: schema } as const;
  return {
    schema,
    loadOrder: model.loadOrder,
    deferredConstraints: model.foreignKeys
      .filter((fk) => fk.breaksCycle)
      .map(({ name, table, columns, refTable }) => ({ name, table, columns, refTable })),
    indexes: model.indexes,
    ttl: model.ttl,
    warnings: model.warnings,
    sql: { beforeLoad: renderSql(phases.beforeLoad, target), afterLoad: renderSql(phases.afterLoad, target) },
  };
}

/**
 * The validated mapping of a loaded config, or a usage error that says how to get one.
 *
 * @example
 * const plan = mappingFromConfig(await loadConfig());
 */
export function mappingFromConfig(config: {
  readonly mapping?: unknown;
  readonly configFile?: string | undefined;
}): Plan {
  if (config.mapping === undefined)
    throw new FerryError(
      config.configFile === undefined
        ? 'no config file with a mapping found'
        : `${config.configFile} has no mapping`,
      {
        code: 'MAPPING_MISSING',
        category: 'usage',
        hint: 'run `ferry infer <source>` to propose one, review it, and keep it under `mapping` in ferry.config.ts',
      },
    );
  return parsePlan(config.mapping);
}

/**
 * The schema model of a config's mapping: shorthand for `buildSchema(mappingFromConfig(config))`.
 *
 * @example
 * declare const config: ResolvedConfig;
 * const model = schemaFromConfig(config);
 */
export function schemaFromConfig(config: {
  readonly mapping?: unknown;
  readonly configFile?: string | undefined;
}): SchemaModel {
  return buildSchema(mappingFromConfig(config));
}

/**
 * The target schemas: `--schema a,b`, else the config's `schemas`, else `public`. Names are
 * checked here (plain identifiers) because they also name the rows of `ferry.migrations`.
 *
 * @example
 * targetSchemas('app,app_test', undefined)   // ['app', 'app_test']
 */
export function targetSchemas(
  option: string | undefined,
  configured: readonly string[] | undefined,
): readonly string[] {
  const names =
    option !== undefined ? option.split(',').map((s) => s.trim()) : [...(configured ?? ['public'])];
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) || name.length > 63)
      throw new FerryError(`invalid schema name "${name}"`, {
        code: 'SCHEMA_NAME_INVALID',
        category: 'usage',
        hint: 'use plain identifiers separated by commas: --schema app,app_test',
      });
  }
  if (new Set(names).size !== names.length)
    throw new FerryError('a schema is named twice in --schema', {
      code: 'SCHEMA_NAME_INVALID',
      category: 'usage',
    });
  return names;
}
