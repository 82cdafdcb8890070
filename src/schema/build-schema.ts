import { FerryError } from '../core/errors.js';
import {
  allowedCheck,
  discriminatorCheck,
  type Plan,
  physicalColumns,
  primaryKey,
  type TablePlan,
} from '../mapping/model.js';
import { pgIdentifier, uniqueName } from '../mapping/names.js';
import { DATE_PRECISION } from '../mapping/pg-types.js';
import { translateIndexes } from './index-translation.js';
import { type DependencyEdge, loadOrder } from './load-order.js';
import type {
  AppendOnlyGuard,
  CaptureTriggerDef,
  CheckDef,
  ForeignKeyDef,
  IndexDef,
  SchemaModel,
  SchemaWarning,
  TableDef,
  TtlRule,
} from './schema-model.js';
import { SCHEMA_PLACEHOLDER } from './sql-text.js';
import { APPEND_ONLY_TRIGGER } from './statements.js';

/**
 * Build the target schema a validated plan asks for: tables with their primary keys, parent
 * and reference foreign keys, discriminator checks, translated indexes, TTL rules, warnings,
 * and a load order. Pure and deterministic: the same plan gives an equal model.
 *
 * Constraint and index names share one namespace per PostgreSQL schema, so they are
 * allocated here, in plan order, each shortened to 63 bytes by `pgIdentifier` and made
 * unique by `uniqueName`.
 *
 * @example
 * declare const config: ResolvedConfig;
 * const model = buildSchema(parsePlan(config.mapping));
 * model.tables.map((t) => t.name)   // in load order
 */
export function buildSchema(plan: Plan): SchemaModel {
  const taken = new Set<string>(plan.collections.flatMap((c) => c.tables.map((t) => t.name)));
  const allocate = (base: string) => {
    const name = uniqueName(pgIdentifier(base), taken);
    taken.add(name);
    return name;
  };

  const tables = new Map<string, TableDef>();
  const planOrder: string[] = [];
  const foreignKeys: Omit<ForeignKeyDef, 'breaksCycle'>[] = [];
  const checks: CheckDef[] = [];
  for (const collection of plan.collections) {
    for (const table of collection.tables) {
      planOrder.push(table.name);
      tables.set(table.name, {
        name: table.name,
        collection: collection.name,
        columns: physicalColumns(collection, table).map((c) => {
          const renamedFrom = table.columns.find((p) => p.name === c.name)?.renamedFrom;
          return {
            name: c.name,
            pgType: columnType(c.pgType),
            nullable: c.nullable,
            ...(renamedFrom === undefined ? {} : { renamedFrom }),
          };
        }),
        primaryKey: { name: allocate(`${table.name}_pkey`), columns: primaryKey(table) },
      });
      if (table.parent !== undefined) {
        const parent = collection.tables.find((t) => t.name === table.parent?.table) as TablePlan;
        foreignKeys.push({
          name: allocate(`${table.name}_parent_fkey`),
          table: table.name,
          columns: table.parent.columns,
          refTable: parent.name,
          refColumns: primaryKey(parent),
          onDelete: 'cascade',
          kind: 'parent',
        });
      }
      for (const column of table.columns) {
        if (column.references === undefined) continue;
        foreignKeys.push({
          name: allocate(`${table.name}_${column.name}_fkey`),
          table: table.name,
          columns: [column.name],
          refTable: column.references.table,
          refColumns: [column.references.column],
          onDelete: 'no action',
          kind: 'reference',
        });
      }
      for (const column of table.columns) {
        const expression = allowedCheck(column);
        if (expression === undefined) continue;
        checks.push({ name: allocate(`${table.name}_${column.name}_check`), table: table.name, expression });
      }
      for (const d of table.discriminators ?? []) {
        const expression = discriminatorCheck(d);
        if (expression.includes(SCHEMA_PLACEHOLDER))
          throw new FerryError(
            `a kind name of discriminator ${d.columns.kind} in table ${table.name} contains ${SCHEMA_PLACEHOLDER}`,
            {
              code: 'SCHEMA_RESERVED_TEXT',
              category: 'input',
              hint: 'rename the kind in the mapping',
            },
          );
        checks.push({
          name: allocate(`${table.name}_${d.columns.kind}_check`),
          table: table.name,
          expression,
        });
      }
    }
  }

  const indexes: IndexDef[] = [];
  const ttl: TtlRule[] = [];
  const warnings: SchemaWarning[] = [];
  for (const collection of plan.collections) {
    const translated = translateIndexes(collection, allocate);
    indexes.push(...translated.indexes);
    ttl.push(...translated.ttl);
    warnings.push(...translated.warnings);
  }

  const appendOnly: AppendOnlyGuard[] = plan.collections.flatMap((collection) =>
    collection.appendOnly === true
      ? collection.tables.map((t) => ({
          name: APPEND_ONLY_TRIGGER,
          table: t.name,
          collection: collection.name,
        }))
      : [],
  );

  const edges: DependencyEdge[] = foreignKeys.map((fk) => ({
    from: fk.table,
    to: fk.refTable,
    kind: fk.kind,
  }));
  const { order, cycleBreakers } = loadOrder(planOrder, edges);
  return {
    tables: order.map((name) => tables.get(name) as TableDef),
    foreignKeys: foreignKeys.map((fk, i) => ({ ...fk, breaksCycle: cycleBreakers.has(i) })),
    checks,
    indexes,
    ttl,
    appendOnly,
    captureTriggers: captureTriggers(plan),
    loadOrder: order,
    warnings,
  };
}

/**
 * The type a plan column is created with: a plain `timestamptz` (or `timestamptz[]`) as
 * `timestamptz(3)`, since it holds BSON dates, which have milliseconds (see `DATE_PRECISION`).
 */
function columnType(pgType: string): string {
  return pgType.replace(/^timestamptz(?=$|\[\]$)/, `timestamptz(${DATE_PRECISION})`);
}

/**
 * Three capture triggers per mapped table, in plan order. Every table of a collection gets
 * them, whether or not the collection is in a domain today: the triggers ask
 * `ferry.domains` at run time, so moving a collection into a `pg_primary` domain needs no
 * schema change. A child table's first parent column holds the root's key at every depth.
 */
function captureTriggers(plan: Plan): CaptureTriggerDef[] {
  return plan.collections.flatMap((collection) =>
    collection.tables.flatMap((table) => {
      const keyColumn = table.parent === undefined ? primaryKey(table)[0]! : table.parent.columns[0]!;
      return (['insert', 'update', 'delete'] as const).map((event) => ({
        name: `ferry_capture_${event}`,
        table: table.name,
        collection: collection.name,
        keyColumn,
        event,
      }));
    }),
  );
}
