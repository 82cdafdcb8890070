import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damagedJsonFixtures, writeDamagedJsonFixtures } from '../../../scripts/fixtures/damaged-json.js';
import { FerryError } from '../../../src/core/errors.js';
import { openEjsonSource } from '../../../src/sources/ejson/ejson-source.js';
import type { ResumePosition, Source, SourceBatch } from '../../../src/sources/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-ejson-'));
  await writeDamagedJsonFixtures(path.join(dir, 'damaged'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<SourceBatch>): Promise<SourceBatch[]> {
  const batches: SourceBatch[] = [];
  for await (const batch of iterable) batches.push(batch);
  return batches;
}

function docsText(n: number, start = 0): string[] {
  return Array.from({ length: n }, (_, i) =>
    EJSON.stringify({ _id: new ObjectId(), i: new Int32(start + i), s: `é ${i} ]},"` }, { relaxed: false }),
  );
}

async function fileSource(name: string, content: string | Buffer): Promise<Source> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return openEjsonSource(file);
}

describe('mongoexport source', () => {
  it('reads a canonical JSONL export with the collection named after the file', async () => {
    const source = await fileSource('people.json', `${docsText(3).join('\n')}\n`);
    expect(await source.listCollections()).toEqual([{ name: 'people', indexes: [] }]);
    const [batch] = await collect(source.read('people'));
    expect(batch?.docs.map((d) => (d.i as Int32).value)).toEqual([0, 1, 2]);
    expect(batch?.docs[0]?._id).toBeInstanceOf(ObjectId);
    expect(await source.countDocuments('people')).toBe(3);
  });

  it('reads relaxed Extended JSON with plain numbers as Int32, Long and Double', async () => {
    const source = await fileSource(
      'relaxed.jsonl',
      '{"_id":1,"a":2.5,"b":4294967296,"d":{"$date":"2020-01-02T03:04:05Z"}}\r\n\n',
    );
    const [batch] = await collect(source.read('relaxed'));
    expect(batch?.docs).toStrictEqual([
      {
        _id: new Int32(1),
        a: new Double(2.5),
        b: Long.fromNumber(2 ** 32),
        d: new Date('2020-01-02T03:04:05Z'),
      },
    ]);
  });

  it('streams a --jsonArray export element by element, also gzipped and pretty-printed', async () => {
    const lines = docsText(25);
    const text = `[\n  ${lines.join(',\n  ')}\n]\n`;
    for (const [name, content] of [
      ['arr.json', text],
      ['arrgz.json.gz', gzipSync(text)],
    ] as const) {
      const source = await fileSource(name, content);
      const collection = name.split('.')[0] as string;
      const batches = await collect(source.read(collection, { batchSize: 10 }));
      expect(batches.map((b) => b.docs.length)).toEqual([10, 10, 5]);
      expect(batches.flatMap((b) => b.docs.map((d) => (d.i as Int32).value))).toEqual([...Array(25).keys()]);
      expect(batches.flatMap((b) => b.rejects)).toEqual([]);
    }
  });

  it('resumes a JSONL read from a batch position without duplicates or gaps', async () => {
    await expectResumeIsExact('resume-lines.json', `${docsText(53).join('\n')}\n`);
  });

  it('resumes a gzipped JSON array read from a batch position without duplicates or gaps', async () => {
    await expectResumeIsExact('resume-array.json.gz', gzipSync(`[${docsText(53).join(' ,\n')}]`));
  });

  async function expectResumeIsExact(name: string, content: string | Buffer): Promise<void> {
    const source = await fileSource(name, content);
    const collection = name.split('.')[0] as string;
    const all = (await collect(source.read(collection, { batchSize: 7 }))).flatMap((b) => b.docs);
    expect(all).toHaveLength(53);
    const firstRun = await collect(source.read(collection, { batchSize: 7 }));
    const resumeAt = firstRun[3]?.position as ResumePosition;
    expect(resumeAt).toMatchObject({ kind: 'offset', index: 28 });
    const rest = (await collect(source.read(collection, { batchSize: 7, after: resumeAt }))).flatMap(
      (b) => b.docs,
    );
    const before = firstRun.slice(0, 4).flatMap((b) => b.docs);
    expect([...before, ...rest]).toStrictEqual(all);
  }

  it('refuses a resume offset that falls inside a line', async () => {
    const source = await fileSource('misaligned.json', `${docsText(3).join('\n')}\n`);
    const read = collect(source.read('misaligned', { after: { kind: 'offset', offset: 5, index: 0 } }));
    await expect(read).rejects.toMatchObject({ code: 'SOURCE_BAD_RESUME_POSITION' });
  });

  it('rejects an invalid line with its line, byte offset and collection, and keeps reading', async () => {
    const fixture = damagedJsonFixtures.badLine;
    const source = await openEjsonSource(path.join(dir, 'damaged', fixture.file));
    const batches = await collect(source.read(fixture.collection));
    const rejects = batches.flatMap((b) => b.rejects);
    expect(batches.flatMap((b) => b.docs)).toHaveLength(fixture.goodDocs);
    expect(rejects).toHaveLength(1);
    const [reject] = rejects;
    expect(reject).toMatchObject({
      code: 'SOURCE_BAD_JSON_LINE',
      collection: fixture.collection,
      raw: '{"_id":{"$oid":"5ca4bbc7a2dd94ee58162303"},"n":',
      where: { line: fixture.line, collection: fixture.collection, id: '5ca4bbc7a2dd94ee58162303' },
    });
    expect(reject?.id).toStrictEqual(new ObjectId('5ca4bbc7a2dd94ee58162303'));
    const firstTwoLines = batches[0]?.docs
      .slice(0, 2)
      .map((d) => `${EJSON.stringify(d, { relaxed: false })}\n`);
    expect(reject?.where.offset).toBe(Buffer.byteLength(firstTwoLines?.join('') ?? ''));
    expect(await source.countDocuments(fixture.collection)).toBe(fixture.goodDocs);
  });

  it('rejects a line with invalid UTF-8 with its exact bytes, line and offset', async () => {
    const fixture = damagedJsonFixtures.badUtf8;
    const file = path.join(dir, 'damaged', fixture.file);
    const source = await openEjsonSource(file);
    const batches = await collect(source.read(fixture.collection));
    expect(batches.flatMap((b) => b.docs)).toHaveLength(fixture.goodDocs);
    const [reject] = batches.flatMap((b) => b.rejects);
    expect(reject?.code).toBe('SOURCE_BAD_UTF8');
    expect(reject?.where).toMatchObject({ file, line: fixture.line, collection: fixture.collection });
    expect(reject?.raw).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(reject?.raw as Uint8Array).includes(Buffer.from([0xc3, 0x28]))).toBe(true);
    expect(reject?.reason).toMatch(/invalid UTF-8 at byte \d+/);
  });

  it('rejects a document over 16 MiB and reads the documents after it', async () => {
    const fixture = damagedJsonFixtures.tooLarge;
    const source = await openEjsonSource(path.join(dir, 'damaged', fixture.file));
    const batches = await collect(source.read(fixture.collection));
    expect(batches.flatMap((b) => b.docs.map((d) => (d.n as Int32).value))).toEqual([1, 3]);
    const [reject] = batches.flatMap((b) => b.rejects);
    expect(reject).toMatchObject({ code: 'SOURCE_DOC_TOO_LARGE', where: { line: fixture.line } });
    expect(reject?.where.offset).toBeGreaterThan(0);
  });

  it('rejects a record too long to buffer without holding it in memory', async () => {
    const file = path.join(dir, 'long-line.json');
    await writeFile(file, `${docsText(1)[0]}\n{"_id":1,"s":"${'y'.repeat(5000)}"}\n${docsText(1)[0]}\n`);
    const source = await openEjsonSource(file, { maxRecordBytes: 1000 });
    const [batch] = await collect(source.read('long-line'));
    expect(batch?.docs).toHaveLength(2);
    expect(batch?.rejects[0]).toMatchObject({
      code: 'SOURCE_DOC_TOO_LARGE',
      id: new Int32(1),
      where: { line: 2 },
    });
    expect(String(batch?.rejects[0]?.raw)).toHaveLength(1000);
  });

  it('fails a JSON array cut short instead of returning a shorter collection', async () => {
    const fixture = damagedJsonFixtures.truncatedArray;
    const source = await openEjsonSource(path.join(dir, 'damaged', fixture.file));
    const docs: unknown[] = [];
    const read = async () => {
      for await (const batch of source.read(fixture.collection, { batchSize: 1 })) docs.push(...batch.docs);
    };
    const error = await read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect(error).toMatchObject({
      code: 'SOURCE_TRUNCATED',
      category: 'input',
      where: { collection: fixture.collection },
    });
    expect((error as FerryError).where.line).toBe(4);
    expect(docs).toHaveLength(fixture.goodDocs);
    await expect(source.countDocuments(fixture.collection)).rejects.toMatchObject({
      code: 'SOURCE_TRUNCATED',
    });
  });

  it('rejects array elements and lines that are not documents', async () => {
    const source = await fileSource('scalars.json', '[1, "two", {"_id": 3}, [4], null]');
    const [batch] = await collect(source.read('scalars'));
    expect(batch?.docs).toStrictEqual([{ _id: new Int32(3) }]);
    expect(batch?.rejects.map((r) => [r.code, r.raw])).toEqual([
      ['SOURCE_NOT_A_DOCUMENT', '1'],
      ['SOURCE_NOT_A_DOCUMENT', '"two"'],
      ['SOURCE_NOT_A_DOCUMENT', '[4]'],
      ['SOURCE_NOT_A_DOCUMENT', 'null'],
    ]);
    expect(batch?.position).toEqual({ kind: 'offset', offset: 32, index: 5 });
  });

  it('rejects plain integers that JSON parsing would round', async () => {
    const source = await fileSource(
      'big.json',
      '{"_id":1,"n":9007199254740993}\n{"_id":2,"n":{"$numberLong":"9007199254740993"}}\n',
    );
    const [batch] = await collect(source.read('big'));
    expect(batch?.docs).toStrictEqual([{ _id: new Int32(2), n: Long.fromString('9007199254740993') }]);
    expect(batch?.rejects[0]).toMatchObject({ code: 'SOURCE_UNSAFE_INTEGER', id: new Int32(1) });
  });

  it('reads a folder as one collection per file, in name order, and readAll visits each', async () => {
    const folder = path.join(dir, 'folder');
    await writeFile(path.join(dir, 'placeholder'), '');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder, { recursive: true }));
    await writeFile(path.join(folder, 'b.json'), docsText(2).join('\n'));
    await writeFile(path.join(folder, 'a.jsonl.gz'), gzipSync(docsText(3).join('\n')));
    await writeFile(path.join(folder, 'notes.txt'), 'not data');
    const source = await openEjsonSource(folder);
    expect((await source.listCollections()).map((c) => c.name)).toEqual(['a', 'b']);
    const batches = await collect(source.readAll());
    expect(batches.map((b) => [b.collection, b.docs.length])).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
    expect((await collect(source.readAll({ only: ['b'] }))).map((b) => b.collection)).toEqual(['b']);
    await expect(source.countDocuments('missing')).rejects.toMatchObject({
      code: 'SOURCE_UNKNOWN_COLLECTION',
    });
  });

  it('stops reading when the signal is aborted', async () => {
    const source = await fileSource('abort.json', docsText(50).join('\n'));
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.read('abort', { batchSize: 5, signal: controller.signal }))
        controller.abort();
    };
    await expect(read()).rejects.toThrow(/abort/i);
  });
});

describe('mongoexport source, dates', () => {
  it('rejects a $date it cannot read instead of loading an Invalid Date', async () => {
    const file = path.join(dir, 'dates.json');
    await writeFile(
      file,
      '{"_id":1,"d":{"$date":"yesterday"}}\n{"_id":2,"d":{"$date":"2020-01-01T00:00:00Z"}}\n',
    );
    const source = await openEjsonSource(file);
    const [batch] = await collect(source.read('dates'));
    expect(batch?.docs).toStrictEqual([{ _id: new Int32(2), d: new Date('2020-01-01T00:00:00Z') }]);
    expect(batch?.rejects[0]).toMatchObject({
      code: 'SOURCE_BAD_DATE',
      id: new Int32(1),
      where: { line: 1, offset: 0 },
    });
  });
});
