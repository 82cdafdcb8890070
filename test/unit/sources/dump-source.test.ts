import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Document, Int32, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDumpSource } from '../../../src/sources/dump/dump-source.js';
import { writeDumpDirectory } from '../../../src/sources/dump/write-dump-directory.js';
import type { ResumePosition } from '../../../src/sources/types.js';

function* orders(count: number): Generator<Document> {
  for (let i = 0; i < count; i++) {
    yield { _id: new ObjectId(i.toString(16).padStart(24, '0')), n: new Int32(i), note: 'x'.repeat(i % 50) };
  }
}

const ids = (docs: readonly Document[]) => docs.map((d) => (d.n as Int32).value);

describe('mongodump directory source', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-dump-'));
    await writeDumpDirectory(
      dir,
      'shop',
      [
        {
          name: 'orders',
          indexes: [
            { name: '_id_', key: { _id: 1 } },
            {
              name: 'n_1_note_-1',
              key: { n: 1, note: -1 },
              unique: true,
              partialFilterExpression: { n: { $gt: new Int32(3) } },
            },
            {
              name: 'note_text',
              key: { _fts: 'text', _ftsx: 1 },
              options: { weights: { note: new Int32(1) } },
            },
            { name: 'ttl', key: { at: 1 }, expireAfterSeconds: 3600, sparse: true },
          ],
          docs: orders(2500),
        },
        { name: 'users', docs: orders(3) },
      ],
      { gzip: true },
    );
    await writeDumpDirectory(dir, 'crm', [{ name: 'users', docs: orders(2) }]);
    await writeDumpDirectory(dir, 'crm', [{ name: 'system.profile', docs: orders(1) }]);
    // A file that mongodump writes and that is not a collection.
    await writeFile(path.join(dir, 'prelude.json'), '{}');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every collection of every database by name, qualifying only names two databases share', async () => {
    const source = await openDumpSource(dir);
    const list = await source.listCollections();
    expect(list.map((c) => [c.name, c.database])).toEqual([
      ['orders', 'shop'],
      ['crm.users', 'crm'],
      ['shop.users', 'shop'],
    ]);
  });

  it('reads one database folder on its own and gives the indexes from the gzipped metadata', async () => {
    const source = await openDumpSource(path.join(dir, 'shop'));
    const list = await source.listCollections();
    expect(list.map((c) => c.name)).toEqual(['orders', 'users']);
    const indexes = list[0]!.indexes;
    expect(indexes.map((i) => i.name)).toEqual(['_id_', 'n_1_note_-1', 'note_text', 'ttl']);
    expect(indexes[1]).toMatchObject({ key: { n: 1, note: -1 }, unique: true });
    expect(Object.keys(indexes[1]!.key)).toEqual(['n', 'note']);
    expect(indexes[1]!.partialFilterExpression).toEqual({ n: { $gt: new Int32(3) } });
    expect(indexes[2]!.key).toEqual({ _fts: 'text', _ftsx: 1 });
    expect(indexes[2]!.options?.weights).toEqual({ note: new Int32(1) });
    expect(indexes[3]).toMatchObject({ expireAfterSeconds: 3600, sparse: true });
  });

  it('counts documents exactly and reads them in file order in batches of the requested size', async () => {
    const source = await openDumpSource(dir);
    expect(await source.countDocuments('orders')).toBe(2500);
    expect(await source.countDocuments('crm.users')).toBe(2);
    const sizes: number[] = [];
    const seen: number[] = [];
    for await (const batch of source.read('orders', { batchSize: 700 })) {
      expect(batch.collection).toBe('orders');
      sizes.push(batch.docs.length);
      seen.push(...ids(batch.docs));
    }
    expect(sizes).toEqual([700, 700, 700, 400]);
    expect(seen).toEqual([...Array(2500).keys()]);
  });

  it('resumes after any batch without repeating or skipping a document', async () => {
    const source = await openDumpSource(dir);
    const positions: ResumePosition[] = [];
    for await (const batch of source.read('orders', { batchSize: 300 })) positions.push(batch.position);
    for (const k of [0, 3, positions.length - 2]) {
      const after = positions[k]!;
      const rest: number[] = [];
      let last: ResumePosition | undefined;
      for await (const batch of source.read('orders', { batchSize: 300, after })) {
        rest.push(...ids(batch.docs));
        last = batch.position;
      }
      const done = (k + 1) * 300;
      expect(rest).toEqual([...Array(2500 - done).keys()].map((i) => i + done));
      expect(last).toEqual(positions.at(-1));
    }
  });

  it('reads every collection with readAll, honouring only and a resume position per collection', async () => {
    const source = await openDumpSource(dir);
    const all = new Map<string, number>();
    for await (const batch of source.readAll())
      all.set(batch.collection, (all.get(batch.collection) ?? 0) + batch.docs.length);
    expect([...all]).toEqual([
      ['orders', 2500],
      ['crm.users', 2],
      ['shop.users', 3],
    ]);
    const first = await source.read('orders', { batchSize: 2000 })[Symbol.asyncIterator]().next();
    const resumed: number[] = [];
    for await (const batch of source.readAll({
      only: ['orders'],
      resume: { orders: first.value!.position },
    })) {
      resumed.push(...ids(batch.docs));
    }
    expect(resumed).toHaveLength(500);
    expect(resumed[0]).toBe(2000);
  });

  it('refuses one resume position for several collections and names unknown collections', async () => {
    const source = await openDumpSource(dir);
    const after = { kind: 'offset', offset: 0, index: 0 } as const;
    await expect(source.readAll({ after })[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'SOURCE_BAD_RESUME_POSITION',
    });
    await expect(source.countDocuments('nope')).rejects.toMatchObject({ code: 'SOURCE_UNKNOWN_COLLECTION' });
  });

  it('reports a resume offset beyond the end of the file instead of reading nothing', async () => {
    const source = await openDumpSource(dir);
    const after = { kind: 'offset', offset: 10_000_000, index: 9 } as const;
    await expect(source.read('orders', { after })[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'SOURCE_BAD_RESUME_POSITION',
      where: { collection: 'shop.orders' },
    });
  });

  it('reads a collection whose metadata is missing, with no indexes', async () => {
    const lone = path.join(dir, 'lone');
    await mkdir(lone);
    await writeDumpDirectory(lone, 'db', [{ name: 'things', docs: orders(4) }]);
    await rm(path.join(lone, 'db', 'things.metadata.json'));
    const source = await openDumpSource(path.join(lone, 'db', 'things.bson'));
    expect(await source.listCollections()).toEqual([{ name: 'things', indexes: [] }]);
    expect(await source.countDocuments('things')).toBe(4);
  });
});
