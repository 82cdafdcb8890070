import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Document } from 'bson';
import { plainJsonValue } from '../test/support/plain-json-value.js';
import { freshDatabase } from './backfill-db.js';
import { readPlan } from './backfill-inputs.js';
import { type BenchReport, type CaseResult, machine, runCase, thousands, toRow } from './harness.js';
import { inferPlanFile } from './infer-plan-file.js';
import { loadAverage } from './load-average.js';
import { salesReplica } from './sales-replica.js';
import { prepareInputs } from './sources.js';

async function writePlainJson(file: string, salesArchive: string, docs: number): Promise<void> {
  if (existsSync(file)) return;
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(`${file}.tmp`);
  out.write('[\n');
  let first = true;
  for await (const { _id, ...rest } of salesReplica(salesArchive, docs)) {
    // `_id` last, so the file reads as plain JSON records, not as an export.
    const record = plainJsonValue({ ...rest, _id }) as Document;
    if (!out.write(`${first ? '' : ',\n'}${JSON.stringify(record)}`)) await once(out, 'drain');
    first = false;
  }
  out.end('\n]\n');
  await finished(out);
  await rename(`${file}.tmp`, file);
}

/**
 * The backfill from the JSON sources against the backfill from the archive of the same
 * documents, in the same run: Ferry's `backfill()` from each input into a fresh database
 * with the plan inferred from that input (plain JSON carries other types, so it gets its own).
 */
export async function benchJsonBackfill(salesArchive: string, docs: number): Promise<BenchReport> {
  const loadBefore = loadAverage();
  const inputs = await prepareInputs(salesArchive, docs);
  const dir = path.dirname(inputs.archive);
  const plain = path.join(dir, 'plain', 'sales.json');
  await writePlainJson(plain, salesArchive, docs);
  const tag = `sales ${thousands(docs)}`;
  const cases: [string, string, string][] = [
    [`archive (${tag})`, inputs.archive, path.join(dir, 'plan-bson.json')],
    [`mongoexport canonical Extended JSON (${tag})`, inputs.canonical, path.join(dir, 'plan-bson.json')],
    [`mongoexport relaxed Extended JSON (${tag})`, inputs.relaxed, path.join(dir, 'plan-bson.json')],
    [`plain JSON array (${tag})`, plain, path.join(dir, 'plan-plain.json')],
  ];
  const results: { name: string; result: CaseResult }[] = [];
  for (const [label, input, planFile] of cases) {
    await inferPlanFile(input, planFile);
    const plan = await readPlan(planFile);
    const name = `Ferry backfill from the ${label}`;
    console.error(`bench: ${name}…`);
    const db = await freshDatabase('json_backfill', plan);
    process.env.FERRY_BENCH_TARGET_URL = db.url;
    try {
      results.push({ name, result: await runCase('cases/backfill-ferry.ts', [input, planFile, '1']) });
    } finally {
      delete process.env.FERRY_BENCH_TARGET_URL;
      await db.drop();
    }
  }
  const archive = results[0]!;
  const rows = results.map((r) =>
    toRow(r.name, r.result, r === archive ? undefined : { name: 'archive', result: archive.result }),
  );
  return {
    name: 'json-backfill',
    title: 'Backfill from JSON sources against the archive',
    description: `The 5000 real \`sample_supplies.sales\` documents replicated to ${thousands(docs)} with fresh ObjectIds, written as an uncompressed archive, as canonical and relaxed Extended JSON lines (what mongoexport writes) and as a plain JSON array (ObjectIds, decimals and dates as strings). Each is backfilled by Ferry's \`backfill()\` (one collection, its defaults) into a fresh database with the before-load DDL of the plan inferred from it (the archive's plan for the Extended JSON files, which carry the same types), after-load DDL included. The issue's goal is ≥ 0.7 × archive for the JSON sources.`,
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows,
    notes: [
      ...rows
        .filter((r) => r.ratio)
        .map((r) => `${r.case}: ${r.ratio!.value} × the archive in docs/s (target ≥ 0.7).`),
      `Command: \`FERRY_BENCH_JSON_DOCS=${docs} npm run bench -- json-backfill\`; load average (1, 5, 15 min, as \`uptime\` shows it) ${loadBefore} before, ${loadAverage()} after.`,
    ],
  };
}
