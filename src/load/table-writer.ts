import { createHash } from 'node:crypto';
import { type CollectionPlan, physicalColumns, primaryKey, quoteIdent } from '../mapping/model.js';
import type { Queryable, TargetTransaction } from '../target/target-database.js';
import type { EncodedDocuments } from './encoded-documents.js';

/**
 * How rows reach a table:
 * - `copy`: straight `COPY … FROM STDIN` into the table, for tables that were empty when the
 *   collection's load began (a first load, or after `--force`); the checkpoint guarantees no
 *   chunk is written twice, so nothing can conflict.
 * - `upsert`: COPY into a temporary staging table, then `INSERT … SELECT … ON CONFLICT (pk)
 *   DO NOTHING`, for tables that already hold rows (a re-run, a resume, rows from elsewhere):
 *   a row already there is left alone and not counted, so a re-run writes nothing twice.
 *   Temporary tables are session-local and never WAL-logged, which is what an unlogged
 *   staging table is for, without names that two concurrent loads could share.
 */
export type WriteMode = 'copy' | 'upsert';

/** One table of a collection as the writer needs it, in load order (parents first). */
export interface TableTarget {
  readonly name: string;
  readonly columns: readonly string[];
  readonly key: readonly string[];
  /** Name of its staging table in `pg_temp`, distinct per target schema. */
  readonly stage: string;
}

/**
 * The tables of one collection in one schema, parents before children (plan order), so the
 * parent foreign keys hold where they exist during a load (a reload into tables whose
 * after-load step already ran; a first load creates them afterwards).
 *
 * @example
 * declare const plan: Plan;
 * tableTargets(plan.collections[0]!, 'app').map((t) => t.name)   // ['orders', 'orders_items']
 */
export function tableTargets(collection: CollectionPlan, schema: string): readonly TableTarget[] {
  return collection.tables.map((table) => ({
    name: table.name,
    columns: physicalColumns(collection, table).map((c) => c.name),
    key: primaryKey(table),
    stage: `ferry_stage_${createHash('sha256').update(`${schema}\u0000${table.name}`).digest('hex').slice(0, 16)}`,
  }));
}

/**
 * Create the staging tables for `upsert` in this session if they are not there yet. They
 * live as long as the connection and empty themselves at every commit.
 */
export async function ensureStaging(
  tx: Queryable,
  schema: string,
  tables: readonly TableTarget[],
): Promise<void> {
  for (const table of tables) {
    await tx.query(
      `create temp table if not exists ${quoteIdent(table.stage)} (like ${quoteIdent(schema)}.${quoteIdent(table.name)} including defaults) on commit delete rows`,
    );
  }
}

/**
 * Write the rows of documents `[from, to)` of `docs` into every table, parents first.
 * Returns the rows written per table (with `upsert`, rows already present are not counted).
 * A failing row fails the call with the target's error; the caller isolates it (write-chunk.ts).
 *
 * @example
 * declare const tx: TargetTransaction;
 * declare const tables: readonly TableTarget[];
 * declare const docs: EncodedDocuments;
 * const written = await writeDocuments(tx, 'app', tables, docs, { from: 0, to: docs.count }, 'copy');
 * written.get('orders_items'); // 1234
 */
export async function writeDocuments(
  tx: TargetTransaction,
  schema: string,
  tables: readonly TableTarget[],
  docs: EncodedDocuments,
  range: { readonly from: number; readonly to: number },
  mode: WriteMode,
): Promise<Map<string, number>> {
  const written = new Map<string, number>();
  for (const [index, table] of tables.entries()) {
    if (docs.rows(index, range.from, range.to) === 0) {
      written.set(table.name, 0);
      continue;
    }
    const text = [docs.text(index, range.from, range.to)];
    const format = { format: docs.binary(index) ? ('binary' as const) : ('text' as const) };
    if (mode === 'copy') {
      written.set(table.name, await tx.copyText({ schema, name: table.name }, table.columns, text, format));
      continue;
    }
    await tx.copyText({ schema: 'pg_temp', name: table.stage }, table.columns, text, format);
    const columns = table.columns.map(quoteIdent).join(', ');
    const { rowCount } = await tx.query(
      `insert into ${quoteIdent(schema)}.${quoteIdent(table.name)} (${columns})
       select ${columns} from pg_temp.${quoteIdent(table.stage)}
       on conflict (${table.key.map(quoteIdent).join(', ')}) do nothing`,
    );
    // Emptied now, not at commit: bisection reuses the staging table within one transaction.
    await tx.query(`truncate pg_temp.${quoteIdent(table.stage)}`);
    written.set(table.name, rowCount);
  }
  return written;
}
