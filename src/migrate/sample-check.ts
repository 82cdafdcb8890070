import { EXTRA_COLUMN, type Plan, quoteIdent } from '../mapping/model.js';
import type { Queryable } from '../target/target-database.js';

/**
 * Values of a collection that its sampled mapping did not type: fields the sample never saw,
 * and values of a type (or a size, or a precision) its columns cannot hold. The mapping lost
 * none of them, they are in `_extra` whole, but a mapping inferred from every document would
 * have given them a column.
 */
export interface BeyondSample {
  readonly collection: string;
  readonly table: string;
  /** Top-level `_extra` keys that hold such values, with how many rows hold each. */
  readonly fields: readonly { readonly key: string; readonly rows: number }[];
}

// What `toRows` puts in `_extra` under every mapping, sampled or not: an explicit null, a BSON
// undefined, an empty array or map of a child table, an object whose columns are all NULL.
// Anything else (a scalar, a non-empty array) is a value the mapping did not place.
const UNDEFINED_MARKER = '{"$undefined": true}';
const PLACED_NOWHERE =
  'strict $.** ? (@.type() == "string" || @.type() == "number" || @.type() == "boolean" || (@.type() == "array" && @.size() > 0))';

/**
 * The exactness check of a mapping inferred from a sample: after the load, every table of
 * `collections` is scanned (the rows with an `_extra` only) for values the mapping did not
 * place. Empty means every document fitted the sampled mapping as it would have fitted one
 * inferred from all of them, apart from nullability (a sampled mapping makes every column
 * nullable).
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const beyond = await findBeyondSample(db, plan, 'public', ['orders']);
 * // [{ collection: 'orders', table: 'orders', fields: [{ key: 'coupon', rows: 3 }] }]
 */
export async function findBeyondSample(
  db: Queryable,
  plan: Plan,
  schema: string,
  collections: readonly string[],
): Promise<BeyondSample[]> {
  const found: BeyondSample[] = [];
  const extra = quoteIdent(EXTRA_COLUMN);
  for (const collection of plan.collections.filter((c) => collections.includes(c.name))) {
    for (const table of collection.tables) {
      const { rows } = await db.query<{ key: string; rows: number }>(
        `select e.key, count(*)::int as rows
           from ${quoteIdent(schema)}.${quoteIdent(table.name)} t,
                jsonb_each(replace(t.${extra}::text, $1, 'null')::jsonb) e
          where t.${extra} is not null and jsonb_path_exists(e.value, $2::jsonpath)
          group by e.key order by e.key`,
        [UNDEFINED_MARKER, PLACED_NOWHERE],
      );
      if (rows.length > 0) found.push({ collection: collection.name, table: table.name, fields: rows });
    }
  }
  return found;
}
