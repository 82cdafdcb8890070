import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { BSON, type Document, EJSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferMapping } from '../../../src/infer/infer-mapping.js';
import type { Plan } from '../../../src/mapping/model.js';
import { DESERIALIZE_OPTIONS } from '../../../src/sources/bson/decode-frame.js';
import { openSource } from '../../../src/sources/open.js';
import type { SourceBatch } from '../../../src/sources/types.js';
import { test } from '../../support/fixtures.js';
import { datasetPath, postgresUrl } from '../../support/services.js';
import { loadEachSource } from './load-each-source.js';
import { dumpSchema } from './support.js';

/**
 * The Extended JSON fast path must write exactly what the archive path writes: the 5000 real
 * sales documents, exported as canonical and as relaxed Extended JSON lines, are backfilled
 * from each and from the archive itself into their own schemas, and every table must hold
 * the same rows.
 */
const archive = datasetPath('sample_supplies.archive.gz');

async function writeExport(file: string, docs: readonly Document[], relaxed: boolean): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  for (const doc of docs) {
    if (!out.write(`${EJSON.stringify(doc, { relaxed })}\n`)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
}

describe.skipIf(!postgresUrl() || !archive)('backfill from Extended JSON exports (the raw path)', () => {
  let workDir = '';
  let plan: Plan;
  const exports = { canonical: '', relaxed: '' };

  beforeAll(async () => {
    const docs: Document[] = [];
    const source = await openSource(archive!);
    try {
      for await (const batch of source.readAll()) docs.push(...batch.docs);
      plan = (await inferMapping(source)).plan;
    } finally {
      await source.close();
    }
    workDir = await mkdtemp(path.join(tmpdir(), 'ferry-json-raw-'));
    for (const relaxed of [false, true]) {
      const file = path.join(workDir, relaxed ? 'relaxed' : 'canonical', 'sales.json');
      await writeExport(file, docs, relaxed);
      exports[relaxed ? 'relaxed' : 'canonical'] = file;
    }
  }, 120_000);

  afterAll(() => rm(workDir, { recursive: true, force: true }));

  it('hands parsed documents over as BSON frames, except a record that holds $undefined', async () => {
    const file = path.join(workDir, 'undefined', 'things.jsonl');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '{"_id":1,"a":{"$undefined":true}}\n{"_id":2,"a":"x"}\n{"_id":3,"a":[1]}\n');
    const source = await openSource(file);
    try {
      const batches: SourceBatch[] = [];
      for await (const batch of source.read('things', { raw: true })) batches.push(batch);
      const decoded: Document[] = [];
      for await (const batch of source.read('things')) decoded.push(...batch.docs);
      const canonical = (doc: Document) => EJSON.stringify(doc, { relaxed: false });
      expect(batches.map((b) => [b.docs.map(canonical), b.raw?.frames.length])).toEqual([
        [[canonical(decoded[0]!)], 2],
      ]);
      const frames = batches[0]!.raw!.frames;
      expect(frames.map((f) => canonical(BSON.deserialize(f.bytes, DESERIALIZE_OPTIONS)))).toEqual(
        decoded.slice(1).map(canonical),
      );
    } finally {
      await source.close();
    }
  });

  test('loads the same rows, byte for byte, as the archive of the same documents', async ({ db, pgUrl }) => {
    await loadEachSource(db, plan, 5000, [
      [archive!, 'from_archive'],
      [exports.canonical, 'from_canonical'],
      [exports.relaxed, 'from_relaxed'],
    ]);
    const fromArchive = await dumpSchema(pgUrl, 'from_archive');
    expect(Object.keys(fromArchive).length).toBeGreaterThan(1);
    expect(await dumpSchema(pgUrl, 'from_canonical')).toEqual(fromArchive);
    expect(await dumpSchema(pgUrl, 'from_relaxed')).toEqual(fromArchive);
  }, 240_000);
});
