import { type Document, EJSON } from 'bson';
import pg from 'pg';
import { type Plan, physicalColumns, primaryKey, quoteIdent } from '../../src/mapping/model.js';
import { ferryTypes } from '../../src/mapping/pg-parsers.js';
import { toRows } from '../../src/mapping/to-rows.js';
import { ensureFerryState } from '../../src/target/ferry-state.js';

/**
 * A test-only loader for verification tests, until they switch to the real backfill: tables
 * from the plan's physical columns (primary keys, no other constraints, so tests can corrupt
 * rows freely), rows from `toRows` through plain INSERTs with `ferryTypes`, and documents
 * `toRows` refuses written to `ferry.rejects` the way the backfill records them.
 */
export async function openLoaderPool(url: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 2, types: ferryTypes });
  pool.on('error', () => {});
  await ensureFerryState(pool);
  return pool;
}

/** Create every table of the plan in `schema` (created if needed). */
export async function createTables(pool: pg.Pool, plan: Plan, schema: string): Promise<void> {
  await pool.query(`create schema if not exists ${quoteIdent(schema)}`);
  for (const collection of plan.collections) {
    for (const table of collection.tables) {
      const columns = physicalColumns(collection, table).map(
        (c) => `${quoteIdent(c.name)} ${c.pgType}${c.nullable ? '' : ' not null'}`,
      );
      const key = primaryKey(table).map(quoteIdent).join(', ');
      await pool.query(
        `create table ${quoteIdent(schema)}.${quoteIdent(table.name)} (${columns.join(', ')}, primary key (${key}))`,
      );
    }
  }
}

/** Load documents of one collection; returns how many were loaded and rejected. */
export async function loadDocuments(
  pool: pg.Pool,
  plan: Plan,
  schema: string,
  collection: string,
  docs: Iterable<Document>,
): Promise<{ loaded: number; rejected: number }> {
  const planned = plan.collections.find((c) => c.name === collection)!;
  const pending = new Map<string, Record<string, unknown>[]>();
  let loaded = 0;
  let rejected = 0;
  const flush = async () => {
    for (const table of planned.tables) {
      const rows = pending.get(table.name) ?? [];
      const names = physicalColumns(planned, table).map((c) => c.name);
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const params: unknown[] = [];
        const tuples = chunk.map((row) => {
          const refs = names.map((n) => {
            params.push(row[n]);
            return `$${params.length}`;
          });
          return `(${refs.join(', ')})`;
        });
        await pool.query(
          `insert into ${quoteIdent(schema)}.${quoteIdent(table.name)} (${names.map(quoteIdent).join(', ')}) values ${tuples.join(', ')}`,
          params,
        );
      }
    }
    pending.clear();
  };
  let inBatch = 0;
  for (const doc of docs) {
    const result = toRows(plan, collection, doc);
    if (!result.ok) {
      rejected++;
      await pool.query(
        `insert into ferry.rejects (schema, collection, doc_id, raw, raw_encoding, stage, code, reason, path)
         values ($1, $2, $3, $4, 'ejson', 'transform', $5, $6, $7)`,
        [
          schema,
          collection,
          EJSON.stringify(doc._id, { relaxed: false }),
          EJSON.stringify(doc, { relaxed: false }),
          result.reject.code,
          result.reject.reason,
          result.reject.path,
        ],
      );
      continue;
    }
    loaded++;
    for (const [table, rows] of result.rows) {
      const list = pending.get(table) ?? [];
      list.push(...(rows as Record<string, unknown>[]));
      pending.set(table, list);
    }
    if (++inBatch >= 500) {
      await flush();
      inBatch = 0;
    }
  }
  await flush();
  return { loaded, rejected };
}
