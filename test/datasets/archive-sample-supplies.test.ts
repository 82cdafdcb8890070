import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BSON, Decimal128, type Document, Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { openArchiveSource } from '../../src/sources/archive/archive-source.js';
import { writeArchive } from '../../src/sources/archive/write-archive.js';
import { openDumpSource } from '../../src/sources/dump/dump-source.js';
import { writeDumpDirectory } from '../../src/sources/dump/write-dump-directory.js';
import { datasetPath } from '../support/services.js';

const file = datasetPath('sample_supplies.archive.gz');

describe.skipIf(!file)('the real sample_supplies archive (mongodump 100.5.3)', () => {
  const archive = file!;

  it('holds exactly 5000 sales documents with the _id index, and its CRC checks out', async () => {
    const source = await openArchiveSource(archive);
    expect(source.header).toMatchObject({ version: '0.1', tool_version: '100.5.3' });
    expect(await source.listCollections()).toEqual([
      {
        name: 'sales',
        database: 'sample_supplies',
        indexes: [{ name: '_id_', key: { _id: 1 }, options: { v: new Int32(2) } }],
      },
    ]);
    expect(await source.countDocuments('sales')).toBe(5000);
    let docs = 0;
    let rejects = 0;
    for await (const batch of source.readAll()) {
      docs += batch.docs.length;
      rejects += batch.rejects.length;
    }
    expect({ docs, rejects }).toEqual({ docs: 5000, rejects: 0 });
  });

  it('keeps Decimal128 prices inside arrays of sub-documents, dates and the nested customer', async () => {
    const source = await openArchiveSource(archive);
    const first = (await source.read('sales', { batchSize: 1 })[Symbol.asyncIterator]().next()).value!
      .docs[0]!;
    expect(first._id).toEqual(new ObjectId('5bd761dcae323e45a93ccfef'));
    expect(first.saleDate).toEqual(new Date('2014-03-31T16:02:06.624Z'));
    const item = (first.items as Document[])[0]!;
    expect(item.price).toBeInstanceOf(Decimal128);
    expect(item.price.toString()).toBe('21.95');
    expect(item.quantity).toBeInstanceOf(Int32);
    expect(item.tags).toEqual(['stationary', 'office', 'general']);
    expect(first.customer).toHaveProperty('email');
  });

  it('round-trips through our archive and dump writers byte for byte', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-supplies-'));
    try {
      const source = await openArchiveSource(archive);
      const [info] = await source.listCollections();
      async function* docs(): AsyncGenerator<Document> {
        for await (const batch of source.read('sales')) yield* batch.docs;
      }
      const copy = path.join(dir, 'copy.archive.gz');
      await writeArchive(copy, 'sample_supplies', [{ name: 'sales', indexes: info!.indexes, docs: docs() }], {
        gzip: true,
      });
      await writeDumpDirectory(dir, 'sample_supplies', [
        { name: 'sales', indexes: info!.indexes, docs: docs() },
      ]);
      const originals: Buffer[] = [];
      for await (const batch of source.read('sales'))
        originals.push(...batch.docs.map((d) => Buffer.from(BSON.serialize(d))));
      for (const reread of [
        await openArchiveSource(copy),
        await openDumpSource(path.join(dir, 'sample_supplies')),
      ]) {
        expect(await reread.listCollections()).toMatchObject([{ name: 'sales', indexes: info!.indexes }]);
        let i = 0;
        for await (const batch of reread.read('sales')) {
          for (const doc of batch.docs)
            expect(Buffer.from(BSON.serialize(doc)).equals(originals[i++]!)).toBe(true);
        }
        expect(i).toBe(5000);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
