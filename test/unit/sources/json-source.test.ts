import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Decimal128, Double, Int32, Long } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damagedJsonFixtures, writeDamagedJsonFixtures } from '../../../scripts/fixtures/damaged-json.js';
import { detectJsonFlavour, flavourOfText } from '../../../src/sources/json/detect-json-flavour.js';
import { formatJsonPointer, parseJsonPointer } from '../../../src/sources/json/json-pointer.js';
import { openJsonSource } from '../../../src/sources/json/json-source.js';
import type { Source, SourceBatch } from '../../../src/sources/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-json-'));
  await writeDamagedJsonFixtures(path.join(dir, 'damaged'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2),
  );
  return file;
}

async function readAll(source: Source, collection: string, batchSize = 1000): Promise<SourceBatch[]> {
  const batches: SourceBatch[] = [];
  for await (const batch of source.read(collection, { batchSize })) batches.push(batch);
  return batches;
}

describe('plain JSON source', () => {
  it('reads an array of records with ids from the configured idField, moved to _id', async () => {
    const file = await write('people.json', [
      { id: 'p1', name: 'Ada', age: 36, score: 1.5 },
      { id: 'p2', name: 'Alan', age: 41, big: 5000000000 },
    ]);
    const source = await openJsonSource(file, { idField: 'id' });
    expect(await source.listCollections()).toEqual([{ name: 'people', indexes: [] }]);
    const [batch] = await readAll(source, 'people');
    expect(batch?.docs).toStrictEqual([
      { _id: 'p1', name: 'Ada', age: new Int32(36), score: new Double(1.5) },
      { _id: 'p2', name: 'Alan', age: new Int32(41), big: Long.fromNumber(5000000000) },
    ]);
    expect(Object.keys(batch?.docs[0] ?? {})[0]).toBe('_id');
  });

  it('builds each record as { _id, ...the rest }: key order kept, an own "__proto__" key kept, a second "_id" winning', async () => {
    // Written as text: an object literal's "__proto__" would set the prototype, not a key.
    const people = await write('proto/people.json', '[{"a":1,"__proto__":{"x":1},"id":"u1","_id":5,"b":2}]');
    const [withField] = await readAll(await openJsonSource(people, { idField: 'id' }), 'people');
    const doc = withField?.docs[0] ?? {};
    expect(Object.keys(doc)).toEqual(['_id', 'a', '__proto__', 'b']);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(doc._id).toStrictEqual(new Int32(5));
    expect(Object.getOwnPropertyDescriptor(doc, '__proto__')?.value).toStrictEqual({ x: new Int32(1) });
    const tags = await write('proto/tags.json', '[{"id":"t1","__proto__":{"y":2},"n":1}]');
    const [withIdField] = await readAll(await openJsonSource(tags), 'tags');
    const tag = withIdField?.docs[0] ?? {};
    expect(Object.keys(tag)).toEqual(['_id', '__proto__', 'n']);
    expect(tag._id).toBe('t1');
    expect(Object.getPrototypeOf(tag)).toBe(Object.prototype);
  });

  it('gives records of an id-less array their position as a deterministic Int32 _id', async () => {
    const file = await write('tags.json', [{ tag: 'a' }, { tag: 'b' }]);
    const [batch] = await readAll(await openJsonSource(file), 'tags');
    expect(batch?.docs).toStrictEqual([
      { _id: new Int32(0), tag: 'a' },
      { _id: new Int32(1), tag: 'b' },
    ]);
  });

  it('rejects id-less records in an array where other records have ids, naming their path', async () => {
    const file = await write('mixed.json', [{ _id: 1 }, { name: 'no id' }]);
    const [batch] = await readAll(await openJsonSource(file), 'mixed');
    expect(batch?.docs).toStrictEqual([{ _id: new Int32(1) }]);
    expect(batch?.rejects).toMatchObject([
      {
        code: 'SOURCE_JSON_NO_ID',
        raw: '{"name":"no id"}',
        where: { file, collection: 'mixed', path: '/1' },
      },
    ]);
  });

  it('reads an object of collections: maps of records keyed by id, and arrays', async () => {
    const file = await write(
      'db.json.gz',
      gzipSync(
        JSON.stringify({
          users: { u1: { name: 'Ada' }, u2: { _id: 'u2', name: 'Alan' }, u3: { _id: 'x', name: 'Bad' } },
          orders: [{ _id: 10, user: 'u1', total: 9.99 }],
        }),
      ),
    );
    const source = await openJsonSource(file);
    expect((await source.listCollections()).map((c) => c.name)).toEqual(['orders', 'users']);
    const [users] = await readAll(source, 'users');
    expect(users?.docs).toStrictEqual([
      { _id: 'u1', name: 'Ada' },
      { _id: 'u2', name: 'Alan' },
    ]);
    expect(users?.rejects).toMatchObject([
      { code: 'SOURCE_JSON_ID_CONFLICT', id: 'u3', where: { path: '/users/u3' } },
    ]);
    expect(await source.countDocuments('orders')).toBe(1);
  });

  it('reads a file that is one map of records as a collection named after the file', async () => {
    const file = await write('settings.json', { a: { v: 1 }, b: { v: 2 } });
    const [batch] = await readAll(await openJsonSource(file), 'settings');
    expect(batch?.docs.map((d) => d._id)).toEqual(['a', 'b']);
  });

  it('picks the records a JSON pointer names, with escaped tokens', async () => {
    const file = await write('nested.json', { version: 3, data: { 'a/b': [{ _id: 1 }, { _id: 2 }] } });
    const source = await openJsonSource(file, { pointer: '/data/a~1b' });
    expect((await source.listCollections()).map((c) => c.name)).toEqual(['a/b']);
    expect(await source.countDocuments('a/b')).toBe(2);
    await expect(openJsonSource(file, { pointer: '/data/missing' })).rejects.toMatchObject({
      code: 'SOURCE_JSON_POINTER_NOT_FOUND',
    });
    await expect(openJsonSource(file)).rejects.toMatchObject({ code: 'SOURCE_JSON_NO_RECORDS' });
  });

  it('round-trips RFC 6901 pointers', () => {
    expect(parseJsonPointer('')).toEqual([]);
    expect(parseJsonPointer('/a~1b/~0c/0')).toEqual(['a/b', '~c', '0']);
    expect(parseJsonPointer('#/a%20b')).toEqual(['a b']);
    expect(formatJsonPointer(['a/b', '~c'])).toBe('/a~1b/~0c');
    expect(() => parseJsonPointer('a')).toThrow(/not a JSON pointer/);
  });

  it('reads a folder of files as several collections', async () => {
    await write('folder/users.json', [{ _id: 1 }, { _id: 2 }]);
    await write('folder/shop.json', { orders: [{ _id: 1 }], items: { i1: { n: 1 } } });
    const source = await openJsonSource(path.join(dir, 'folder'));
    expect((await source.listCollections()).map((c) => c.name)).toEqual(['items', 'orders', 'users']);
    const seen: [string, number][] = [];
    for await (const batch of source.readAll()) seen.push([batch.collection, batch.docs.length]);
    expect(seen).toEqual([
      ['items', 1],
      ['orders', 1],
      ['users', 2],
    ]);
  });

  it('resumes from a batch position without duplicates or gaps', async () => {
    const file = await write(
      'many.json',
      Array.from({ length: 23 }, (_, i) => ({ _id: i })),
    );
    const source = await openJsonSource(file);
    const first = await readAll(source, 'many', 5);
    const after = first[1]?.position;
    const rest: unknown[] = [];
    for await (const batch of source.read('many', { batchSize: 5, after })) rest.push(...batch.docs);
    expect([...first.slice(0, 2).flatMap((b) => b.docs), ...rest]).toStrictEqual(
      first.flatMap((b) => b.docs),
    );
    expect(first.reduce((sum, b) => sum + b.bytes, 0)).toBeGreaterThan(0);
  });

  it('rejects records that are not objects', async () => {
    const file = await write('odd.json', '[{"_id": 1}, 5]');
    const [batch] = await readAll(await openJsonSource(file), 'odd');
    expect(batch?.rejects.map((r) => r.code)).toEqual(['SOURCE_NOT_A_DOCUMENT']);
  });

  it('reads integers beyond 2^53 exactly: int64 as Long, beyond int64 as Decimal128, never rounded', async () => {
    const file = await write(
      'big.json',
      '[{"_id": 9007199254740993, "n": 12345678901234567890, "m": -9223372036854775808,' +
        ' "s": "12345678901234567890", "f": 1.12345678901234567890, "e": 12345678901234567e3, "ok": 9007199254740991}]',
    );
    const [batch] = await readAll(await openJsonSource(file), 'big');
    expect(batch?.rejects).toEqual([]);
    expect(batch?.docs).toStrictEqual([
      {
        _id: Long.fromString('9007199254740993'),
        n: Decimal128.fromString('12345678901234567890'),
        m: Long.fromString('-9223372036854775808'),
        s: '12345678901234567890',
        f: new Double(1.1234567890123457),
        e: new Double(12345678901234567e3),
        ok: Long.fromNumber(9007199254740991),
      },
    ]);
  });

  it('rejects an integer longer than any BSON number holds, without its value in the reason', async () => {
    const digits = '1'.repeat(40);
    const file = await write('huge.json', `[{"_id": 1, "n": ${digits}}]`);
    const [batch] = await readAll(await openJsonSource(file), 'huge');
    expect(batch?.rejects.map((r) => r.code)).toEqual(['SOURCE_UNSAFE_INTEGER']);
    expect(batch?.rejects[0]?.reason).not.toContain(digits);
  });

  it('takes an id field as the id of array records (moved, not kept twice), and positions only without one', async () => {
    const file = await write('users.json', [
      { id: 7, name: 'Ada' },
      { id: 'u8', name: 'Alan' },
    ]);
    const [batch] = await readAll(await openJsonSource(file), 'users');
    expect(batch?.docs).toStrictEqual([
      { _id: new Int32(7), name: 'Ada' },
      { _id: 'u8', name: 'Alan' },
    ]);
    const mixed = await write('half.json', [{ id: 1 }, { name: 'no id' }]);
    const [half] = await readAll(await openJsonSource(mixed), 'half');
    expect(half?.rejects.map((r) => r.code)).toEqual(['SOURCE_JSON_NO_ID']);
    const withBoth = await write('both.json', [{ _id: 1, id: 'kept as a field' }]);
    const [both] = await readAll(await openJsonSource(withBoth), 'both');
    expect(both?.docs).toStrictEqual([{ _id: new Int32(1), id: 'kept as a field' }]);
  });

  it('fails a file with a syntax error naming its line and byte offset', async () => {
    const fixture = damagedJsonFixtures.plainSyntaxError;
    const file = path.join(dir, 'damaged', fixture.file);
    const error = await openJsonSource(file).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SOURCE_BAD_JSON',
      category: 'input',
      where: { file, line: fixture.line },
    });
    expect((error as { where: { offset: number } }).where.offset).toBe(47);
  });

  it('fails a plain JSON file read whole with invalid UTF-8 naming the byte offset', async () => {
    // {"u":{"a":"\xe9"}}: a map of records, which is parsed whole.
    const file = await write(
      'latin1-map.json',
      Buffer.from([0x7b, 0x22, 0x75, 0x22, 0x3a, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d, 0x7d]),
    );
    await expect(openJsonSource(file)).rejects.toMatchObject({
      code: 'SOURCE_BAD_UTF8',
      where: { offset: 11, line: 1 },
    });
  });

  it('rejects a streamed array record with invalid UTF-8, naming its offset, line and pointer, and loads the rest', async () => {
    // [{"a":"\xe9"},{"_id":2}]
    const file = await write(
      'latin1.json',
      Buffer.concat([
        Buffer.from([0x5b, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]),
        Buffer.from(',\n{"_id":2}]'),
      ]),
    );
    const [batch] = await readAll(await openJsonSource(file), 'latin1');
    expect(batch?.docs).toStrictEqual([{ _id: new Int32(2) }]);
    expect(batch?.rejects).toHaveLength(1);
    expect(batch?.rejects[0]).toMatchObject({
      code: 'SOURCE_BAD_UTF8',
      where: { file, offset: 1, line: 1, path: '/0', collection: 'latin1' },
    });
  });

  it('streams a top-level array in bounded batches and resumes from a byte offset, with positions as ids', async () => {
    const file = await write(
      'positions.json',
      Array.from({ length: 12 }, (_, i) => ({ n: i })),
    );
    const source = await openJsonSource(file);
    const batches = await readAll(source, 'positions', 5);
    expect(batches.map((b) => b.docs.length)).toEqual([5, 5, 2]);
    const after = batches[0]?.position;
    expect(after).toMatchObject({ kind: 'offset', index: 5 });
    expect((after as { offset: number }).offset).toBeGreaterThan(0);
    const rest: unknown[] = [];
    for await (const batch of source.read('positions', { batchSize: 5, after })) rest.push(...batch.docs);
    expect(rest).toStrictEqual(batches.slice(1).flatMap((b) => b.docs));
    expect(rest[0]).toStrictEqual({ _id: new Int32(5), n: new Int32(5) });
  });

  it('resumes a streamed array from a record index, as positions of a file read whole were written', async () => {
    const file = await write(
      'legacy.json',
      Array.from({ length: 7 }, (_, i) => ({ _id: i })),
    );
    const source = await openJsonSource(file);
    const rest: unknown[] = [];
    const after = { kind: 'offset' as const, offset: 0, index: 4 };
    for await (const batch of source.read('legacy', { batchSize: 2, after })) rest.push(...batch.docs);
    expect(rest).toStrictEqual([4, 5, 6].map((i) => ({ _id: new Int32(i) })));
  });

  it('rejects id-less records of a streamed array when a later record has an id, however far on', async () => {
    const records: unknown[] = Array.from({ length: 3000 }, (_, i) => ({ n: i }));
    records.push({ id: 'late', n: -1 });
    const file = await write('late-id.json', records);
    const batches = await readAll(await openJsonSource(file), 'late-id', 1000);
    const docs = batches.flatMap((b) => b.docs);
    const rejects = batches.flatMap((b) => b.rejects);
    expect(docs).toStrictEqual([{ _id: 'late', n: new Int32(-1) }]);
    expect(rejects).toHaveLength(3000);
    expect(rejects[2999]).toMatchObject({ code: 'SOURCE_JSON_NO_ID', where: { path: '/2999' } });
  });
});

describe('detectJsonFlavour', () => {
  it('tells mongoexport output from plain JSON files, saying why', async () => {
    const cases: [string, unknown, string][] = [
      ['canonical.json', '{"_id":{"$oid":"5ca4bbc7a2dd94ee5816238c"}}\n', 'ejson'],
      ['relaxed-lines.json', '{"a":1}\n{"a":2}\n', 'ejson'],
      ['single.json', '{"_id":1,"name":"x"}', 'ejson'],
      ['export-array.json', '[{"_id":1},{"_id":2}]', 'ejson'],
      ['lines.jsonl', '{"a":1}', 'ejson'],
      ['records.json', [{ id: 1 }], 'json'],
      ['collections.json', { users: { u1: { name: 'x' } } }, 'json'],
      ['one-line-object.json', '{"users":[{"id":1}]}', 'json'],
    ];
    for (const [name, content, flavour] of cases) {
      const verdict = await detectJsonFlavour(await write(`flavour/${name}`, content));
      expect([name, verdict.flavour]).toEqual([name, flavour]);
      expect(verdict.reason).not.toBe('');
    }
  });

  it('rejects a folder that mixes both flavours', async () => {
    await write('mixed-folder/a.json', '{"_id":{"$oid":"5ca4bbc7a2dd94ee5816238c"}}\n');
    await write('mixed-folder/b.json', [{ id: 1 }]);
    await expect(detectJsonFlavour(path.join(dir, 'mixed-folder'))).rejects.toMatchObject({
      code: 'SOURCE_MIXED_JSON_FLAVOURS',
    });
  });

  it('recognises the damaged-export fixtures as Extended JSON', async () => {
    expect(flavourOfText('  [\n {"_id": {"$numberInt": "1"}}').flavour).toBe('ejson');
    const verdict = await detectJsonFlavour(path.join(dir, 'damaged', damagedJsonFixtures.badLine.file));
    expect(verdict.flavour).toBe('ejson');
  });
});
