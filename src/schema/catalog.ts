import type { Queryable } from '../target/target-database.js';

/** What PostgreSQL's catalog says one schema holds, in the shapes drift.ts compares. */
export interface CatalogSchema {
  readonly tables: ReadonlyMap<string, CatalogTable>;
  readonly constraints: readonly CatalogConstraint[];
  readonly indexes: readonly CatalogIndex[];
  /** User-defined triggers (not the ones PostgreSQL makes for foreign keys). */
  readonly triggers: readonly CatalogTrigger[];
}

export interface CatalogTrigger {
  readonly name: string;
  readonly table: string;
  /** False after `alter table … disable trigger`: it exists but does not fire. */
  readonly enabled: boolean;
}

export interface CatalogTable {
  /** Column name → `format_type` spelling (`timestamp with time zone`) and nullability. */
  readonly columns: ReadonlyMap<string, { readonly type: string; readonly nullable: boolean }>;
}

export interface CatalogConstraint {
  readonly name: string;
  readonly table: string;
  readonly type: 'p' | 'f' | 'c' | 'u' | 'x';
  readonly columns: readonly string[];
  readonly refTable: string | null;
  readonly refColumns: readonly string[];
  /** `c` cascade, `a` no action, … (pg_constraint.confdeltype). */
  readonly onDelete: string | null;
}

export interface CatalogIndex {
  readonly name: string;
  readonly table: string;
  readonly unique: boolean;
  readonly method: string;
  /** Key columns by name; an expression key is `null`. */
  readonly keys: readonly (string | null)[];
  readonly partial: boolean;
}

/**
 * Read tables, columns, constraints and secondary indexes of `schema` from pg_catalog.
 * pg_catalog rather than information_schema: it names index methods, expression keys and
 * partial predicates, and it shows tables the user cannot write to as well.
 *
 * @example
 * declare const db: TargetDatabase;
 * const catalog = await readCatalog(db, 'app');
 * catalog.tables.get('users')?.columns.get('email')   // { type: 'text', nullable: true }
 */
export async function readCatalog(db: Queryable, schema: string): Promise<CatalogSchema> {
  const columns = await db.query<{ table: string; column: string; type: string; not_null: boolean }>(
    `select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = $1 and c.relkind in ('r', 'p')
      order by c.relname, a.attnum`,
    [schema],
  );
  const tables = new Map<string, { columns: Map<string, { type: string; nullable: boolean }> }>();
  for (const row of columns.rows) {
    const table = tables.get(row.table) ?? { columns: new Map() };
    table.columns.set(row.column, { type: row.type, nullable: !row.not_null });
    tables.set(row.table, table);
  }
  const constraints = await db.query<CatalogConstraint>(
    `select con.conname as name, c.relname as table, con.contype as type,
            array(select a.attname from unnest(con.conkey) with ordinality k(num, ord)
                    join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num order by k.ord)::text[] as columns,
            rc.relname as "refTable",
            array(select a.attname from unnest(con.confkey) with ordinality k(num, ord)
                    join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num order by k.ord)::text[] as "refColumns",
            nullif(con.confdeltype, ' ') as "onDelete"
       from pg_constraint con
       join pg_class c on c.oid = con.conrelid
       join pg_namespace n on n.oid = c.relnamespace
       left join pg_class rc on rc.oid = con.confrelid
      where n.nspname = $1
      order by c.relname, con.conname`,
    [schema],
  );
  const indexes = await db.query<CatalogIndex>(
    `select i.relname as name, t.relname as table, ix.indisunique as unique, am.amname as method,
            array(select case when k.num = 0 then null else a.attname end
                    from unnest(ix.indkey::int2[]) with ordinality k(num, ord)
                    left join pg_attribute a on a.attrelid = ix.indrelid and a.attnum = k.num
                   order by k.ord)::text[] as keys,
            ix.indpred is not null as partial
       from pg_index ix
       join pg_class i on i.oid = ix.indexrelid
       join pg_class t on t.oid = ix.indrelid
       join pg_namespace n on n.oid = t.relnamespace
       join pg_am am on am.oid = i.relam
      where n.nspname = $1
        and not exists (select 1 from pg_constraint con where con.conindid = ix.indexrelid and con.contype in ('p', 'u', 'x'))
      order by i.relname`,
    [schema],
  );
  const triggers = await db.query<CatalogTrigger>(
    `select tg.tgname as name, c.relname as table, tg.tgenabled <> 'D' as enabled
       from pg_trigger tg
       join pg_class c on c.oid = tg.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and not tg.tgisinternal
      order by c.relname, tg.tgname`,
    [schema],
  );
  return { tables, constraints: constraints.rows, indexes: indexes.rows, triggers: triggers.rows };
}
