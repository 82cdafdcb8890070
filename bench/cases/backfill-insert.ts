// Case (c), what users write by hand today: read documents, `toRows`, then one parameterised
// `INSERT … ON CONFLICT DO NOTHING` per row, 100 documents per transaction, one connection.
// It runs on a proportional prefix (the first `limit × share` documents of every collection),
// since the whole input would take hours; its rates are compared, not its totals.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { physicalColumns, quoteIdent } from '../../src/mapping/model.js';
import { toRows } from '../../src/mapping/to-rows.js';
import { openSource } from '../../src/sources/open.js';
import { afterLoadSql, BENCH_SCHEMA, targetUrl } from '../backfill-db.js';
import { type RenderedCopy, readPlan } from '../backfill-inputs.js';
import { reportCase } from '../harness.js';

const [archive, planFile, manifestFile, limit] = process.argv.slice(2) as [string, string, string, string];
const url = targetUrl();
const plan = await readPlan(planFile);
const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as RenderedCopy;
const share = Math.min(1, Number(limit) / manifest.docs);
const source = await openSource(archive);
const client = new pg.Client({ connectionString: url });
await client.connect();
const started = performance.now();
let docs = 0;
let rows = 0;
let bytes = 0;
for (const collection of plan.collections) {
  const wanted = Math.ceil((manifest.collections.find((c) => c.name === collection.name)?.docs ?? 0) * share);
  const inserts = new Map(
    collection.tables.map((table) => {
      const columns = physicalColumns(collection, table).map((c) => c.name);
      const sql = `INSERT INTO ${quoteIdent(BENCH_SCHEMA)}.${quoteIdent(table.name)} (${columns.map(quoteIdent).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`;
      return [table.name, { sql, columns }] as const;
    }),
  );
  let taken = 0;
  for await (const batch of source.read(collection.name, { batchSize: 100 })) {
    const some = batch.docs.slice(0, wanted - taken);
    await client.query('BEGIN');
    for (const doc of some) {
      const result = toRows(plan, collection.name, doc);
      if (!result.ok) continue;
      for (const [table, tableRows] of result.rows) {
        const insert = inserts.get(table)!;
        for (const row of tableRows) {
          await client.query(
            insert.sql,
            insert.columns.map((c) => row[c]),
          );
          rows++;
        }
      }
    }
    await client.query('COMMIT');
    taken += some.length;
    docs += some.length;
    // The batch's bytes pro rata: only the last batch is cut short.
    bytes += Math.round((batch.bytes * some.length) / Math.max(batch.docs.length, 1));
    if (taken >= wanted) break;
  }
}
await client.query(afterLoadSql(plan));
const seconds = (performance.now() - started) / 1000;
await client.end();
await source.close();
reportCase({ docs, rows, bytes, seconds });
