import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BSON, type Document, Int32 } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveSource } from '../../../src/sources/archive/archive-source.js';
import { scanArchive } from '../../../src/sources/archive/scan-archive.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import type { ResumePosition } from '../../../src/sources/types.js';

async function* numbered(count: number, log?: string[], tag?: string): AsyncGenerator<Document> {
  for (let i = 0; i < count; i++) {
    log?.push(`${tag}${i}`);
    yield { _id: new Int32(i), n: new Int32(i), pad: 'p'.repeat(i % 30) };
  }
}

const ns = (docs: readonly Document[]) => docs.map((d) => (d.n as Int32).value);

describe('mongodump archive source', () => {
  let dir: string;
  let archive: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-archive-'));
    archive = path.join(dir, 'shop.archive.gz');
    await writeArchive(
      archive,
      'shop',
      [
        { name: 'orders', indexes: [{ name: '_id_', key: { _id: 1 } }], docs: numbered(1000) },
        {
          name: 'users',
          indexes: [{ name: 'email_1', key: { email: 1 }, unique: true }],
          docs: numbered(130),
        },
        { name: 'empty', docs: numbered(0) },
        { name: 'system.views', docs: numbered(0) },
      ],
      { gzip: true, blockDocuments: 7 },
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes blocks that really interleave, each collection closed by one EOF header', async () => {
    const order: string[] = [];
    for await (const event of scanArchive(archive)) {
      if (event.kind === 'frame' && order.at(-1) !== event.namespace) order.push(event.namespace);
      if (event.kind === 'end') {
        expect(event.checksumOk).toBe(true);
        order.push(`end ${event.namespace}`);
      }
    }
    expect(order.slice(0, 4)).toEqual([
      'shop.orders',
      'shop.users',
      'end shop.empty',
      'end shop.system.views',
    ]);
    expect(order.filter((o) => o.startsWith('end'))).toHaveLength(4);
  });

  it('pulls documents from every collection lazily, a block at a time, instead of buffering a collection', async () => {
    const log: string[] = [];
    await writeArchive(
      path.join(dir, 'lazy.archive'),
      'db',
      [
        { name: 'a', docs: numbered(10, log, 'a') },
        { name: 'b', docs: numbered(10, log, 'b') },
      ],
      { blockDocuments: 3 },
    );
    expect(log.slice(0, 9)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'a3', 'a4', 'a5']);
  });

  it('lists collections with indexes from the prelude, leaving out system collections', async () => {
    const source = await openArchiveSource(archive);
    const list = await source.listCollections();
    expect(list.map((c) => c.name)).toEqual(['empty', 'orders', 'users']);
    expect(list[2]).toEqual({
      name: 'users',
      database: 'shop',
      indexes: [{ name: 'email_1', key: { email: 1 }, unique: true, options: { v: new Int32(2) } }],
    });
    expect(await source.countDocuments('orders')).toBe(1000);
    expect(await source.countDocuments('users')).toBe(130);
    expect(await source.countDocuments('empty')).toBe(0);
  });

  it('reads every collection in one pass, each in its own order, with batches of one collection', async () => {
    const source = await openArchiveSource(archive);
    const got = new Map<string, number[]>();
    for await (const batch of source.readAll({ batchSize: 50 })) {
      expect(batch.docs.length).toBeLessThanOrEqual(50);
      got.set(batch.collection, [...(got.get(batch.collection) ?? []), ...ns(batch.docs)]);
    }
    expect(got.get('orders')).toEqual([...Array(1000).keys()]);
    expect(got.get('users')).toEqual([...Array(130).keys()]);
    expect(got.has('empty')).toBe(false);
  });

  it('resumes a collection after any batch without repeating or skipping a document', async () => {
    const source = await openArchiveSource(archive);
    const positions: ResumePosition[] = [];
    for await (const batch of source.read('users', { batchSize: 40 })) positions.push(batch.position);
    expect(positions.map((p) => (p.kind === 'offset' ? p.index : -1))).toEqual([40, 80, 120, 130]);
    for (const k of [0, 1, 2]) {
      const rest: number[] = [];
      for await (const batch of source.read('users', { batchSize: 40, after: positions[k]! }))
        rest.push(...ns(batch.docs));
      const done = (k + 1) * 40;
      expect(rest).toEqual([...Array(130 - done).keys()].map((i) => i + done));
    }
  });

  it('reports an archive whose documents were altered as a checksum mismatch', async () => {
    const plain = path.join(dir, 'plain.archive');
    await writeArchive(plain, 'shop', [{ name: 'orders', docs: numbered(20) }]);
    const bytes = await readFile(plain);
    // Change a value inside a document without breaking its framing: it still decodes.
    const doc = BSON.serialize({ _id: new Int32(5), n: new Int32(5), pad: 'ppppp' });
    const at = bytes.indexOf(Buffer.from(doc));
    expect(at).toBeGreaterThan(0);
    bytes[at + doc.length - 3] = 'q'.charCodeAt(0);
    await writeFile(plain, bytes);
    const source = await openArchiveSource(plain);
    const read = async () => {
      for await (const _ of source.readAll()) {
        // drain
      }
    };
    await expect(read()).rejects.toMatchObject({
      code: 'SOURCE_BAD_CHECKSUM',
      where: { file: plain, collection: 'shop.orders' },
    });
  });

  it('checksums the collection it reads and walks past the others without checksumming them', async () => {
    const plain = path.join(dir, 'two.archive');
    await writeArchive(
      plain,
      'shop',
      [
        { name: 'orders', docs: numbered(20) },
        { name: 'users', docs: numbered(20) },
      ],
      { blockDocuments: 7 },
    );
    const bytes = await readFile(plain);
    // Alter one users document so that it still decodes and keeps its framing.
    const doc = BSON.serialize({ _id: new Int32(5), n: new Int32(5), pad: 'ppppp' });
    const first = bytes.indexOf(Buffer.from(doc));
    const at = bytes.indexOf(Buffer.from(doc), first + 1);
    expect(at).toBeGreaterThan(first);
    bytes[at + doc.length - 3] = 'q'.charCodeAt(0);
    await writeFile(plain, bytes);
    const source = await openArchiveSource(plain);
    const read = async (name: string) => {
      const got: number[] = [];
      for await (const batch of source.read(name)) got.push(...ns(batch.docs));
      return got;
    };
    expect(await read('orders')).toEqual([...Array(20).keys()]);
    await expect(read('users')).rejects.toMatchObject({ code: 'SOURCE_BAD_CHECKSUM' });
    // A skipped collection's framing is still checked: a broken length before the read
    // collection's end (the blocks interleave) stops the scan.
    bytes.writeInt32LE(3, at);
    await writeFile(plain, bytes);
    await expect(read('orders')).rejects.toMatchObject({ code: 'SOURCE_CORRUPT_LENGTH' });
  });

  it('refuses a file that is not an archive', async () => {
    const other = path.join(dir, 'other.archive');
    await writeFile(other, BSON.serialize({ a: 1 }));
    await expect(openArchiveSource(other)).rejects.toMatchObject({
      code: 'SOURCE_NOT_AN_ARCHIVE',
      where: { offset: 0 },
    });
  });

  it('stops with the abort reason when the signal fires', async () => {
    const source = await openArchiveSource(archive);
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.readAll({ batchSize: 10, signal: controller.signal })) controller.abort();
    };
    await expect(read()).rejects.toMatchObject({ name: 'AbortError' });
  });
});
