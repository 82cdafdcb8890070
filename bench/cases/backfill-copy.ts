// Case (b), the ceiling: `COPY … FROM STDIN` of Ferry's own final rows from files rendered
// before timing, collections `parallel` at a time (one connection each, tables parents
// first), then the same after-load DDL Ferry runs. Nothing is parsed or mapped here.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent } from '../../src/mapping/model.js';
import { afterLoadSql, BENCH_SCHEMA, targetUrl, withClient } from '../backfill-db.js';
import { type RenderedCopy, readPlan } from '../backfill-inputs.js';
import { reportCase } from '../harness.js';

const [manifestFile, planFile, parallel] = process.argv.slice(2) as [string, string, string];
const url = targetUrl();
const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as RenderedCopy;
const plan = await readPlan(planFile);
const started = performance.now();
let rows = 0;
let next = 0;
// Largest collections first, so the two connections finish close together.
const queue = [...manifest.collections].sort((a, b) => total(b) - total(a));
await Promise.all(
  Array.from({ length: Number(parallel) }, () =>
    withClient(url, async (client) => {
      while (next < queue.length) {
        for (const table of queue[next++]!.tables) {
          const sql = `COPY ${quoteIdent(BENCH_SCHEMA)}.${quoteIdent(table.name)} (${table.columns.map(quoteIdent).join(', ')}) FROM STDIN`;
          const copy = client.query(copyFrom(sql));
          await pipeline(createReadStream(table.file, { highWaterMark: 1 << 20 }), copy);
          rows += Number(copy.rowCount);
        }
      }
    }),
  ),
);
await withClient(url, (client) => client.query(afterLoadSql(plan)));
reportCase({
  docs: manifest.docs,
  rows,
  bytes: manifest.bytes,
  seconds: (performance.now() - started) / 1000,
});

function total(collection: RenderedCopy['collections'][number]): number {
  return collection.tables.reduce((n, t) => n + t.rows, 0);
}
