import type { Plan } from '../mapping/model.js';
import type { Queryable } from './target-database.js';

/**
 * The bytes each collection's tables hold in `schema` (root and child tables together: child
 * tables hold most of some collections' rows), from the catalog, without reading a row. What
 * reading a collection back costs grows with it, so the lanes that export or verify several
 * collections at once start the heaviest first, and the run does not end with one big
 * collection read alone while the other lane idles. Collections without tables weigh 0.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const bytes = await collectionBytes(db, plan, 'public');
 * bytes.get('orders')   // 2_949_120
 */
export async function collectionBytes(
  db: Queryable,
  plan: Plan,
  schema: string,
): Promise<Map<string, number>> {
  const { rows } = await db.query<{ table: string; bytes: string | number }>(
    `select c.relname as table, pg_relation_size(c.oid) as bytes from pg_class c
     join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`,
    [schema],
  );
  const tables = new Map(rows.map((r) => [r.table, Number(r.bytes)]));
  return new Map(
    plan.collections.map((c) => [c.name, c.tables.reduce((n, t) => n + (tables.get(t.name) ?? 0), 0)]),
  );
}
