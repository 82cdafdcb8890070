import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { EJSON } from 'bson';
import { writeArchive } from '../src/sources/archive/write-archive.js';
import { writeDumpDirectory } from '../src/sources/dump/write-dump-directory.js';
import { type BenchReport, type BenchRow, machine, runCase, toRow, workDir } from './harness.js';
import { salesReplica } from './sales-replica.js';

interface Inputs {
  readonly archive: string;
  readonly dump: string;
  readonly bson: string;
  readonly canonical: string;
  readonly relaxed: string;
}

export async function prepareInputs(salesArchive: string, docs: number): Promise<Inputs> {
  const dir = path.join(workDir, `sources-${docs}`);
  const inputs: Inputs = {
    archive: path.join(dir, 'sales.archive'),
    dump: path.join(dir, 'dump'),
    bson: path.join(dir, 'dump', 'bench', 'sales.bson'),
    canonical: path.join(dir, 'canonical', 'sales.json'),
    relaxed: path.join(dir, 'relaxed', 'sales.json'),
  };
  if (existsSync(path.join(dir, 'complete'))) return inputs;
  await mkdir(path.dirname(inputs.canonical), { recursive: true });
  await mkdir(path.dirname(inputs.relaxed), { recursive: true });
  const replica = () => salesReplica(salesArchive, docs);
  await writeArchive(inputs.archive, 'bench', [{ name: 'sales', docs: replica() }]);
  await writeDumpDirectory(inputs.dump, 'bench', [{ name: 'sales', docs: replica() }]);
  for (const [file, relaxed] of [
    [inputs.canonical, false],
    [inputs.relaxed, true],
  ] as const) {
    const out = createWriteStream(file);
    for await (const doc of replica()) {
      if (!out.write(`${EJSON.stringify(doc, { relaxed })}\n`)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  }
  await writeFile(path.join(dir, 'complete'), new Date().toISOString());
  return inputs;
}

/**
 * Source throughput: each of Ferry's readers against the plainest loop over the same bytes
 * (BSON.deserialize for BSON inputs, JSON.parse for Extended JSON), at two input sizes so
 * peak RSS can be seen not to grow with the input.
 */
export async function benchSources(salesArchive: string, docs: number): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  for (const size of [Math.max(Math.floor(docs / 10), 5000), docs]) {
    const inputs = await prepareInputs(salesArchive, size);
    const tag = `${(size / 1000).toLocaleString('en-US')}k docs`;
    const bsonBaseline = {
      name: `BSON.deserialize loop (${tag})`,
      result: await runCase('cases/baseline-bson.ts', [inputs.bson]),
    };
    const jsonCanonical = {
      name: `JSON.parse loop, canonical (${tag})`,
      result: await runCase('cases/baseline-json-lines.ts', [inputs.canonical, 'json']),
    };
    const jsonRelaxed = {
      name: `JSON.parse loop, relaxed (${tag})`,
      result: await runCase('cases/baseline-json-lines.ts', [inputs.relaxed, 'json']),
    };
    rows.push(toRow(bsonBaseline.name, bsonBaseline.result));
    rows.push(
      toRow(`Ferry archive (${tag})`, await runCase('cases/read-source.ts', [inputs.archive]), bsonBaseline),
    );
    rows.push(
      toRow(
        `Ferry dump directory (${tag})`,
        await runCase('cases/read-source.ts', [inputs.dump]),
        bsonBaseline,
      ),
    );
    rows.push(toRow(jsonCanonical.name, jsonCanonical.result));
    rows.push(
      toRow(
        `Ferry EJSON export, canonical (${tag})`,
        await runCase('cases/read-source.ts', [inputs.canonical]),
        jsonCanonical,
      ),
    );
    rows.push(
      toRow(
        `EJSON.parse loop, canonical (${tag})`,
        await runCase('cases/baseline-json-lines.ts', [inputs.canonical, 'ejson']),
        jsonCanonical,
      ),
    );
    rows.push(toRow(jsonRelaxed.name, jsonRelaxed.result));
    rows.push(
      toRow(
        `Ferry EJSON export, relaxed (${tag})`,
        await runCase('cases/read-source.ts', [inputs.relaxed]),
        jsonRelaxed,
      ),
    );
  }
  return {
    name: 'sources',
    title: 'Reading sources',
    description:
      'The 5000 real `sample_supplies.sales` documents replicated with fresh ObjectIds, written as an archive, a dump directory and canonical/relaxed Extended JSON. Ferry reads each through its `Source` interface (validation, rejects, batches, positions); the baselines are the plainest loop over the same bytes. MB/s counts uncompressed input bytes.',
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows,
    notes: sourceNotes(rows),
  };
}

/** The conclusions a reader wants, computed from the rows so they can never disagree with them. */
export function sourceNotes(rows: readonly BenchRow[]): string[] {
  const find = (prefix: string) => rows.filter((r) => r.case.startsWith(prefix));
  const notes: string[] = [];
  const fast = find('Ferry EJSON export, canonical').at(-1);
  const slow = find('EJSON.parse loop, canonical').at(-1);
  if (fast && slow) {
    notes.push(
      `Ferry's Extended JSON reader (fast path, with validation and rejects) runs at ${(fast.docsPerSecond / slow.docsPerSecond).toFixed(1)}× a bare EJSON.parse loop on the same canonical lines.`,
    );
  }
  for (const reader of ['Ferry archive', 'Ferry dump directory', 'Ferry EJSON export, canonical']) {
    const [small, large] = [find(reader).at(0), find(reader).at(-1)];
    if (small && large && small !== large) {
      notes.push(
        `${reader}: peak RSS ${small.peakRssMb} MB at ${small.docs.toLocaleString('en-US')} documents, ${large.peakRssMb} MB at ${large.docs.toLocaleString('en-US')} (memory does not grow with the input).`,
      );
    }
  }
  return notes;
}
