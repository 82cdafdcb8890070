import { escapeKey } from '../mapping/json-value.js';
import { type CollectionPlan, EXTRA_COLUMN, type Plan, quoteIdent } from '../mapping/model.js';
import type { Queryable } from '../target/target-database.js';

/**
 * A typed column that could not hold some of its field's values: `toRows` left it NULL and
 * kept each such value whole in the row's `_extra` (nothing is lost, but the column does not
 * say what the data is, and queries on it miss those rows).
 */
export interface ColumnMisfit {
  readonly schema: string;
  readonly collection: string;
  readonly table: string;
  readonly column: string;
  readonly pgType: string;
  readonly sourceType: string;
  /** Rows whose value went to `_extra` instead of the column. */
  readonly values: number;
}

/**
 * Count, per typed column, the values that went to `_extra` because they did not fit: the
 * same question `ferry infer --check` asks of the statistics, asked of what was loaded.
 * By the mapping's encoding (to-rows.ts) such a value is a NULL column with a non-null value
 * under the column's path in `_extra`; an explicit `null` is kept there as JSON null and does
 * not count. One scan per table, of the rows that have an `_extra` at all. Tables that do not
 * exist yet are skipped.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const misfits = await countMisfits(db, plan, 'public', ['sales']);
 * // [{ table: 'sales_items', column: 'price', pgType: 'integer', values: 27438, … }]
 */
export async function countMisfits(
  db: Queryable,
  plan: Plan,
  schema: string,
  collections: readonly string[],
): Promise<ColumnMisfit[]> {
  const misfits: ColumnMisfit[] = [];
  for (const collection of plan.collections.filter((c) => collections.includes(c.name)))
    misfits.push(...(await collectionMisfits(db, collection, schema)));
  return misfits;
}

async function collectionMisfits(
  db: Queryable,
  collection: CollectionPlan,
  schema: string,
): Promise<ColumnMisfit[]> {
  const misfits: ColumnMisfit[] = [];
  for (const table of collection.tables) {
    // A jsonb column takes any value, so only typed columns can send one to `_extra`.
    const typed = table.columns.filter((c) => !/^jsonb?$/.test(c.pgType) && c.path[0] !== '_id');
    if (typed.length === 0 || !(await tableExists(db, schema, table.name))) continue;
    const extra = quoteIdent(EXTRA_COLUMN);
    const counts = typed.map((column, i) => {
      const kept = `${extra} #> $${i + 1}::text[]`;
      return `count(*) filter (where ${quoteIdent(column.name)} is null and jsonb_typeof(${kept}) <> 'null') as c${i}`;
    });
    const { rows } = await db.query<Record<string, string | number>>(
      `select ${counts.join(', ')} from ${quoteIdent(schema)}.${quoteIdent(table.name)} where ${extra} is not null`,
      typed.map((column) => column.path.map(escapeKey)),
    );
    typed.forEach((column, i) => {
      const values = Number(rows[0]?.[`c${i}`] ?? 0);
      if (values > 0)
        misfits.push({
          schema,
          collection: collection.name,
          table: table.name,
          column: column.name,
          pgType: column.pgType,
          sourceType: column.sourceType,
          values,
        });
    });
  }
  return misfits;
}

async function tableExists(db: Queryable, schema: string, table: string): Promise<boolean> {
  const { rows } = await db.query<{ t: string | null }>('select to_regclass($1)::text as t', [
    `${quoteIdent(schema)}.${quoteIdent(table)}`,
  ]);
  return rows[0]?.t != null;
}

/**
 * The warning people read, naming the column, its type and what to do.
 *
 * @example
 * declare const misfit: ColumnMisfit;
 * misfitText(misfit);
 * // 'column sales_items.price (integer, int) could not hold 27438 value(s) of sales in schema public: they went to _extra …'
 */
export function misfitText(m: ColumnMisfit): string {
  return `column ${m.table}.${m.column} (${m.pgType}, ${m.sourceType}) could not hold ${m.values} value(s) of ${m.collection} in schema ${m.schema}: they went to _extra, and the column is NULL there — check the mapping with \`ferry infer --check\`, fix the type, then reload with \`ferry backfill --only ${m.collection} --force\``;
}
