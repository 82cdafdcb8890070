import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { Decimal128, type Document, EJSON } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalDiff } from '../../src/mapping/canonical/index.js';
import { writeDumpDirectory } from '../../src/sources/dump/write-dump-directory.js';
import { openSource } from '../../src/sources/open.js';
import type { Source } from '../../src/sources/types.js';
import { decimalsAsStrings } from '../support/ferretdb-documents.js';
import { datasetPath, mongoUrl } from '../support/services.js';

/**
 * The acceptance test for the source layer: the 5000 real sales documents come out
 * with the same content from every kind of source. Everything is compared canonically
 * (DESIGN.md invariant 4) in `_id` order.
 */
const archive = datasetPath('sample_supplies.archive.gz');
const mongo = mongoUrl();

async function readAllDocs(source: Source): Promise<Document[]> {
  const docs: Document[] = [];
  try {
    for await (const batch of source.readAll()) {
      expect(batch.rejects).toEqual([]);
      docs.push(...batch.docs);
    }
  } finally {
    await source.close();
  }
  return docs.sort((a, b) => String(a._id).localeCompare(String(b._id)));
}

function expectSameDocuments(actual: readonly Document[], expected: readonly Document[]): void {
  expect(actual).toHaveLength(expected.length);
  const differing = expected
    .map((doc, i) => ({ id: String(doc._id), diff: canonicalDiff(doc, actual[i]) }))
    .filter((d) => d.diff.length > 0);
  expect(differing.slice(0, 3)).toEqual([]);
}

async function writeExport(file: string, docs: readonly Document[], relaxed: boolean): Promise<void> {
  const out = createWriteStream(file);
  for (const doc of docs) {
    if (!out.write(`${EJSON.stringify(doc, { relaxed })}\n`)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
}

describe.skipIf(!archive)('the 5000 sales documents through every kind of source', () => {
  let fromArchive: Document[] = [];
  let workDir = '';

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'ferry-agree-'));
    fromArchive = await readAllDocs(await openSource(archive!));
  });
  afterAll(() => rm(workDir, { recursive: true, force: true }));

  it('reads all 5000 from the real archive, with Decimal128 prices inside item arrays', () => {
    expect(fromArchive).toHaveLength(5000);
    const price = (fromArchive[0]!.items as Document[])[0]!.price;
    expect(price).toBeInstanceOf(Decimal128);
  });

  it('gives the same documents back from a mongodump directory written by our own writer', async () => {
    for (const gzip of [false, true]) {
      const dir = path.join(workDir, gzip ? 'dump-gz' : 'dump');
      await writeDumpDirectory(dir, 'sample_supplies', [{ name: 'sales', docs: fromArchive }], { gzip });
      expectSameDocuments(await readAllDocs(await openSource(dir)), fromArchive);
    }
  });

  it('gives the same documents back from canonical and relaxed Extended JSON exports', async () => {
    for (const relaxed of [false, true]) {
      const file = path.join(workDir, relaxed ? 'relaxed' : 'canonical', 'sales.json');
      await mkdir(path.dirname(file), { recursive: true });
      await writeExport(file, fromArchive, relaxed);
      const source = await openSource(file);
      expect(source.kind).toBe('ejson');
      expectSameDocuments(await readAllDocs(source), fromArchive);
    }
  });

  describe.skipIf(!mongo)('on the live FerretDB server', () => {
    const database = `agree_${process.pid}`;
    let client: MongoClient;
    beforeAll(async () => {
      client = new MongoClient(mongo!, { serverSelectionTimeoutMS: 5000 });
      await client.db(database).dropDatabase();
    });
    afterAll(async () => {
      await client.db(database).dropDatabase();
      await client.close();
    });

    it('gives the same documents back once inserted, Decimal128 aside (FerretDB cannot store it)', async () => {
      const stored = fromArchive.map((doc) => decimalsAsStrings(doc) as Document);
      await client.db(database).collection('sales').insertMany(stored, { ordered: true });
      const source = await openSource(`${mongo!.replace(/\/?$/, '/')}${database}`);
      expect(source.kind).toBe('mongodb');
      expectSameDocuments(await readAllDocs(source), stored);
    });

    it('still refuses Decimal128, which is why the live comparison substitutes it', async () => {
      const probe = new MongoClient(mongo!, { serverSelectionTimeoutMS: 5000, retryWrites: false });
      try {
        await expect(
          probe
            .db(database)
            .collection('decimal_probe')
            .insertOne({ price: Decimal128.fromString('1.5') }),
        ).rejects.toThrow();
      } finally {
        await probe.close();
      }
    });
  });
});
