import { type CollectionPlan, primaryKey, quoteIdent } from '../mapping/model.js';
import type { RowValue } from '../mapping/row-values.js';
import type { Queryable } from '../target/target-database.js';

/**
 * A row the export could not turn into (part of) a document, with its key and why.
 *
 * @example
 * declare const summary: ExportSummary;
 * for (const row of summary.unrebuildable) console.error(`${row.table} (${row.key}): ${row.reason}`);
 */
export interface UnrebuildableRow {
  readonly table: string;
  /** The row's primary key, as text (`parent_id=…, idx=2` for a child row). */
  readonly key: string;
  readonly reason: string;
}

/** At most this many orphans are listed per table; the count says how many there are. */
const MAX_LISTED = 1000;

/**
 * Child rows whose parent row is gone (deleted by hand with the foreign key dropped or
 * disabled). Reading documents root by root never meets them, so they would vanish from
 * an export without a word; they are looked for explicitly, table by table.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const orders: CollectionPlan;
 * const orphans = await orphanRows(db, 'public', orders);
 */
export async function orphanRows(
  db: Queryable,
  schema: string,
  collection: CollectionPlan,
): Promise<UnrebuildableRow[]> {
  const out: UnrebuildableRow[] = [];
  const qualified = (name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
  for (const table of collection.tables) {
    if (table.parent === undefined) continue;
    const parent = collection.tables.find((t) => t.name === table.parent?.table);
    if (parent === undefined) continue;
    const parentKey = primaryKey(parent);
    const childKey = primaryKey(table);
    const join = table.parent.columns
      .map((column, i) => `p.${quoteIdent(parentKey[i]!)} = c.${quoteIdent(column)}`)
      .join(' and ');
    const { rows } = await db.query<Record<string, RowValue>>(
      `select ${childKey.map((k) => `c.${quoteIdent(k)}`).join(', ')} from ${qualified(table.name)} c
       where not exists (select 1 from ${qualified(parent.name)} p where ${join})
       order by ${childKey.map((k) => `c.${quoteIdent(k)}`).join(', ')} limit ${MAX_LISTED}`,
    );
    for (const row of rows)
      out.push({
        table: table.name,
        key: childKey.map((k) => `${k}=${keyText(row[k] ?? null)}`).join(', '),
        reason: `its parent row in ${parent.name} does not exist`,
      });
  }
  return out;
}

/** A key value as text for a report (bytea as hex). */
export function keyText(value: RowValue): string {
  return Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : String(value);
}
