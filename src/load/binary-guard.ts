import { type CollectionPlan, physicalColumns, quoteIdent } from '../mapping/model.js';
import { parsePgType } from '../mapping/pg-types.js';
import type { Queryable } from '../target/target-database.js';

/**
 * Whether every table of `collection` in `schema` has exactly the column types the plan
 * gives it. Binary COPY sends each value in its type's own binary form, which PostgreSQL
 * reads only into that type, while text COPY converts (an integer into a bigint column, text
 * into varchar). A table altered by hand since Ferry created it would refuse every binary
 * row, so such a collection is loaded as text.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const binary = await columnTypesMatch(db, 'app', plan.collections[0]!);
 */
export async function columnTypesMatch(
  db: Queryable,
  schema: string,
  collection: CollectionPlan,
): Promise<boolean> {
  for (const table of collection.tables) {
    const { rows } = await db.query<{ name: string; type: string }>(
      `select a.attname as name, format_type(a.atttypid, null) as type
         from pg_attribute a
        where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped`,
      [`${quoteIdent(schema)}.${quoteIdent(table.name)}`],
    );
    const actual = new Map(rows.map((r) => [r.name, r.type]));
    for (const column of physicalColumns(collection, table)) {
      if (actual.get(column.name) !== catalogTypeName(column.pgType)) return false;
    }
  }
  return true;
}

/** A plan type as `format_type` prints it without its modifier (`numeric(12,2)` → `numeric`). */
function catalogTypeName(pgType: string): string | undefined {
  const parsed = parsePgType(pgType);
  if (!parsed.ok) return undefined;
  const base = parsed.type.base === 'timestamptz' ? 'timestamp with time zone' : parsed.type.base;
  return parsed.type.array ? `${base}[]` : base;
}
