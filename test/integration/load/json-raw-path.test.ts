import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { BSON, type Document, EJSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNastyDocuments } from '../../../src/generate/nasty-documents.js';
import { inferMapping } from '../../../src/infer/infer-mapping.js';
import type { Plan } from '../../../src/mapping/model.js';
import { DESERIALIZE_OPTIONS } from '../../../src/sources/bson/decode-frame.js';
import { openJsonSource } from '../../../src/sources/json/json-source.js';
import { openSource } from '../../../src/sources/open.js';
import type { Source, SourceBatch } from '../../../src/sources/types.js';
import { test } from '../../support/fixtures.js';
import { plainJsonValue } from '../../support/plain-json-value.js';
import { datasetPath, postgresUrl } from '../../support/services.js';
import { loadEachSource } from './load-each-source.js';
import { dumpSchema } from './support.js';

/**
 * The Extended JSON fast path must write exactly what the archive path writes: the 5000 real
 * sales documents, exported as canonical and as relaxed Extended JSON lines, are backfilled
 * from each and from the archive itself into their own schemas, and every table must hold
 * the same rows. A plain JSON array, streamed as frames, must write what the same records
 * parsed whole (decoded documents) write.
 */
const archive = datasetPath('sample_supplies.archive.gz');

/**
 * Reads `collection` raw (BSON frames where the source makes them) and decoded, and expects
 * the same batches: positions, byte counts, rejects, and documents (a frame as its bytes, a
 * document as its `BSON.serialize`). Frames and decoded documents may sit in a different
 * order within a batch, so each batch's documents compare as a set. Returns the raw batches.
 */
async function expectRawReadLikeDecoded(source: Source, collection: string): Promise<SourceBatch[]> {
  const read = async (raw: boolean) => {
    const batches: SourceBatch[] = [];
    for await (const batch of source.read(collection, { raw, batchSize: 700 })) batches.push(batch);
    return batches;
  };
  const [rawBatches, decodedBatches] = [await read(true), await read(false)];
  const canonical = (doc: Document) => Buffer.from(BSON.serialize(doc)).toString('hex');
  const view = (batches: SourceBatch[]) =>
    batches.map((b) => ({
      position: b.position,
      bytes: b.bytes,
      rejects: b.rejects,
      docs: [...b.docs.map(canonical), ...(b.raw?.frames ?? []).map((f) => f.bytes.toString('hex'))].sort(),
    }));
  expect(view(rawBatches)).toEqual(view(decodedBatches));
  return rawBatches;
}

async function writeExport(file: string, docs: readonly Document[], relaxed: boolean): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  for (const doc of docs) {
    if (!out.write(`${EJSON.stringify(doc, { relaxed })}\n`)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
}

describe.skipIf(!postgresUrl() || !archive)('backfill from JSON sources on the raw path', () => {
  let workDir = '';
  let plan: Plan;
  const docs: Document[] = [];
  const exports = { canonical: '', relaxed: '' };

  beforeAll(async () => {
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

  it('hands nasty and damaged export lines over as exactly the documents, rejects and positions of a decoded read', async () => {
    const lines = [...generateNastyDocuments(20261206, 3000)].map(({ doc }, i) =>
      EJSON.stringify(doc, { relaxed: i % 2 === 1 }),
    );
    // Lines the full path rejects, among the good ones: not JSON, an unsafe integer, a bad
    // date, a malformed wrapper, not a document, $undefined (kept decoded).
    lines.splice(10, 0, '{"_id":1,"a":', '{"_id":2,"a":9007199254740993}', '{"_id":3,"d":{"$date":"soon"}}');
    lines.splice(
      500,
      0,
      '{"_id":4,"o":{"$oid":"5f5e1000","x":1}}',
      '[1,2]',
      '{"_id":5,"u":{"$undefined":true}}',
    );
    const file = path.join(workDir, 'nasty', 'events.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${lines.join('\n')}\n`);
    const source = await openSource(file);
    try {
      const rawBatches = await expectRawReadLikeDecoded(source, 'events');
      expect(rawBatches.reduce((n, b) => n + b.rejects.length, 0)).toBeGreaterThanOrEqual(5);
      expect(rawBatches.reduce((n, b) => n + (b.raw?.frames.length ?? 0), 0)).toBeGreaterThan(1000);
    } finally {
      await source.close();
    }
  });

  it('hands nasty and unloadable plain JSON records over as exactly the documents, rejects and positions of a decoded read', async () => {
    const records = [...generateNastyDocuments(20261207, 3000)].map(({ doc }) =>
      JSON.stringify(plainJsonValue(doc)),
    );
    // Records the full path rejects or builds in its own way, among the good ones: integers
    // read exactly, not a document, no id while others have one, `$` and index keys.
    records.splice(10, 0, '{"_id":2,"a":9007199254740993}', '[1,2]', '7', '{"x":1}');
    records.splice(
      500,
      0,
      '{"_id":3,"b":12345678901234567890}',
      '{"_id":4,"$a":{"$oid":"x"}}',
      '{"1":1,"id":5}',
    );
    const file = path.join(workDir, 'plain-nasty', 'events.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `[\n${records.join(',\n')}\n]\n`);
    // Opened as plain JSON: detection would read records with `$` keys as Extended JSON.
    const source = await openJsonSource(file);
    try {
      const rawBatches = await expectRawReadLikeDecoded(source, 'events');
      expect(rawBatches.reduce((n, b) => n + b.rejects.length, 0)).toBeGreaterThanOrEqual(3);
      expect(rawBatches.reduce((n, b) => n + (b.raw?.frames.length ?? 0), 0)).toBeGreaterThan(1000);
    } finally {
      await source.close();
    }
  });

  test('streams a plain JSON array as BSON frames into the same rows, byte for byte, as the same records parsed whole', async ({
    db,
    pgUrl,
  }) => {
    // The same plain records twice: a top-level array (streamed, raw frames) and an object
    // holding that array under "sales" (parsed whole, decoded documents).
    const records = docs.map(({ _id, ...rest }) => plainJsonValue({ ...rest, _id }));
    const streamed = path.join(workDir, 'plain-array', 'sales.json');
    const whole = path.join(workDir, 'plain-object', 'db.json');
    await mkdir(path.dirname(streamed), { recursive: true });
    await mkdir(path.dirname(whole), { recursive: true });
    await writeFile(streamed, `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
    await writeFile(whole, JSON.stringify({ sales: records }));
    const source = await openSource(streamed);
    let plainPlan: Plan;
    try {
      const batches: SourceBatch[] = [];
      for await (const batch of source.read('sales', { raw: true, batchSize: 1000 })) batches.push(batch);
      expect(batches.reduce((n, b) => n + (b.raw?.frames.length ?? 0), 0)).toBe(records.length);
      plainPlan = (await inferMapping(source)).plan;
    } finally {
      await source.close();
    }
    await loadEachSource(db, plainPlan, 5000, [
      [streamed, 'plain_streamed'],
      [whole, 'plain_whole'],
    ]);
    const fromWhole = await dumpSchema(pgUrl, 'plain_whole');
    expect(Object.keys(fromWhole).length).toBeGreaterThan(1);
    expect(await dumpSchema(pgUrl, 'plain_streamed')).toEqual(fromWhole);
  }, 240_000);

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
