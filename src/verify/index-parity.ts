import type { CollectionPlan, Plan, TablePlan } from '../mapping/model.js';
import type { IndexSpec, Source } from '../sources/types.js';
import type { Queryable } from '../target/target-database.js';
import type { IndexParity } from './types.js';

interface PgIndex {
  table: string;
  name: string;
  unique: boolean;
  method: string;
  columns: (string | null)[];
}

/**
 * Index parity: every source index should have a PostgreSQL equivalent on the table holding
 * its fields, or a warning that says why not (a TTL index is a cleanup rule, a field that
 * lives in `_extra` has no column to index, a geo index has no translation). Findings are
 * warnings, never failures: a missing index costs speed, not data, and verification's exit
 * code is about data.
 *
 * The indexes come from the plan (which carries them from inference) or else from the
 * source; `_id_` is the primary key.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const source: Source;
 * await checkIndexParity(plan, ['orders'], 'public', source, db);
 * // [{ collection: 'orders', index: 'sku_1', status: 'warning', message: 'no index on orders_items (sku) …' }]
 */
export async function checkIndexParity(
  plan: Plan,
  collections: readonly string[],
  schema: string,
  source: Source,
  db: Queryable,
): Promise<IndexParity[]> {
  const { rows } = await db.query<PgIndex>(
    `select t.relname as table, i.relname as name, x.indisunique as unique, am.amname as method,
            array(select a.attname::text from unnest(x.indkey) with ordinality k(n, o)
                  left join pg_attribute a on a.attrelid = t.oid and a.attnum = k.n order by k.o) as columns
       from pg_index x
       join pg_class t on t.oid = x.indrelid
       join pg_class i on i.oid = x.indexrelid
       join pg_am am on am.oid = i.relam
       join pg_namespace s on s.oid = t.relnamespace
      where s.nspname = $1`,
    [schema],
  );
  let fromSource: readonly { name: string; indexes: readonly IndexSpec[] }[] | undefined;
  const out: IndexParity[] = [];
  for (const name of collections) {
    const collection = plan.collections.find((c) => c.name === name)!;
    let specs: readonly IndexSpec[] | undefined = collection.indexes as readonly IndexSpec[] | undefined;
    if (specs === undefined) {
      fromSource ??= await source.listCollections().catch(() => []);
      specs = fromSource.find((c) => c.name === name)?.indexes ?? [];
    }
    for (const spec of specs)
      out.push({ collection: name, index: spec.name, ...judge(collection, spec, rows) });
  }
  return out;
}

function judge(
  collection: CollectionPlan,
  spec: IndexSpec,
  pg: readonly PgIndex[],
): Omit<IndexParity, 'collection' | 'index'> {
  const fields = Object.keys(spec.key);
  const kinds = Object.values(spec.key);
  const root = collection.tables[0]!;
  if (fields.length === 1 && fields[0] === '_id')
    return { status: 'ok', message: `the primary key of ${root.name}` };
  if (kinds.includes('text')) {
    const gin = pg.find((i) => i.table === root.name && i.method === 'gin');
    return gin
      ? { status: 'ok', message: `GIN index ${gin.name} on ${root.name}` }
      : {
          status: 'warning',
          message: `text index: no GIN index on ${root.name} (full-text search is a GIN index over to_tsvector)`,
        };
  }
  if (kinds.some((k) => typeof k === 'string'))
    return {
      status: 'warning',
      message: `${kinds.filter((k) => typeof k === 'string').join(', ')} indexes have no PostgreSQL translation; add one by hand (e.g. PostGIS) if queries need it`,
    };
  const placed = placeFields(collection, fields);
  if (typeof placed === 'string') return { status: 'warning', message: placed };
  const match = pg.find(
    (i) =>
      i.table === placed.table.name &&
      i.columns.length >= placed.columns.length &&
      placed.columns.every((c, n) => i.columns[n] === c) &&
      (spec.unique !== true || i.unique),
  );
  const ttl =
    spec.expireAfterSeconds !== undefined
      ? '; its TTL is a cleanup rule, listed by `ferry plan`, which you schedule'
      : '';
  if (match)
    return {
      status: 'ok',
      message: `${match.name} on ${placed.table.name} (${placed.columns.join(', ')})${ttl}`,
    };
  return {
    status: 'warning',
    message: `no ${spec.unique === true ? 'unique ' : ''}index on ${placed.table.name} (${placed.columns.join(', ')})${ttl}; \`ferry schema apply\` creates it after the load`,
  };
}

/** The table and columns holding the index's fields, or why there are none. */
function placeFields(
  collection: CollectionPlan,
  fields: readonly string[],
): { table: TablePlan; columns: string[] } | string {
  let table: TablePlan | undefined;
  const columns: string[] = [];
  for (const field of fields) {
    const found = locate(collection, field.split('.'));
    if (found === undefined)
      return `field ${field} has no column of its own (it is stored in _extra or inside a jsonb column), so no index can match it`;
    if (table !== undefined && table !== found.table)
      return `its fields live in different tables (${table.name}, ${found.table.name}); PostgreSQL indexes one table`;
    table = found.table;
    columns.push(found.column);
  }
  return { table: table!, columns };
}

function locate(
  collection: CollectionPlan,
  path: readonly string[],
): { table: TablePlan; column: string } | undefined {
  // Walk down from the root: a prefix that is a child table's field continues in that table.
  let table = collection.tables[0]!;
  let rest = path;
  for (;;) {
    const column = table.columns.find(
      (c) => c.path.length === rest.length && c.path.every((p, i) => p === rest[i]),
    );
    if (column) return { table, column: column.name };
    const child = collection.tables.find(
      (t) =>
        t.parent?.table === table.name &&
        t.parent.path.every((p, i) => p === rest[i]) &&
        t.parent.path.length < rest.length,
    );
    if (child === undefined) return undefined;
    rest = rest.slice(child.parent!.path.length);
    table = child;
  }
}
