import { Binary, BSONRegExp, Double, EJSON, Int32, Long, ObjectId, Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MongoSource, openMongoSource } from '../../../src/sources/mongodb/index.js';
import { mongoUrl } from '../../support/services.js';
import {
  collect,
  readDocs,
  seedClient,
  seedCollection,
  uniqueDatabase,
  withDatabase,
} from './mongodb-helpers.js';

const url = mongoUrl();
const canonical = (value: unknown) => EJSON.stringify(value, { relaxed: false });

describe.skipIf(!url)('the live MongoDB source on FerretDB', () => {
  const dbName = uniqueDatabase('src');
  let seed: MongoClient;
  let source: MongoSource;

  beforeAll(async () => {
    seed = seedClient(url!);
    const db = seed.db(dbName);
    await seedCollection(seed, dbName, 'orders').insertMany(
      Array.from({ length: 25 }, (_, i) => ({ _id: new Int32(25 - i), n: new Int32(i) })),
    );
    const people = db.collection('people');
    await people.insertOne({ _id: new ObjectId(), email: 'a@example.com' });
    await people.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    await people.createIndex({ last: 1, first: -1 });
    await people.createIndex({ nickname: 1 }, { sparse: true });
    await seedCollection(seed, dbName, 'system.js').insertOne({ _id: 'f', value: 'function () {}' });
    await seedCollection(seed, dbName, 'empty').insertOne({ _id: 1 });
    await db.collection('empty').deleteMany({});
    source = await openMongoSource(withDatabase(url!, dbName));
  });

  afterAll(async () => {
    await source?.close();
    await seed?.db(dbName).dropDatabase();
    await seed?.close();
  });

  it('lists the collections by name with their database and leaves system collections out', async () => {
    const infos = await source.listCollections();
    expect(infos.map((c) => c.name)).toEqual(['empty', 'orders', 'people']);
    expect(infos.every((c) => c.database === dbName)).toBe(true);
  });

  it('reports the estimated count of each collection and the exact count on request', async () => {
    const infos = await source.listCollections();
    expect(infos.find((c) => c.name === 'orders')?.estimatedCount).toBe(25);
    expect(await source.countDocuments('orders')).toBe(25);
    expect(await source.countDocuments('empty')).toBe(0);
  });

  it('reads unique, compound and sparse indexes back in MongoDB’s shape', async () => {
    const people = (await source.listCollections()).find((c) => c.name === 'people')!;
    const byName = Object.fromEntries(people.indexes.map((i) => [i.name, i]));
    expect(byName._id_).toEqual({ name: '_id_', key: { _id: 1 } });
    expect(byName.email_unique).toEqual({ name: 'email_unique', key: { email: 1 }, unique: true });
    expect(byName['last_1_first_-1']).toEqual({ name: 'last_1_first_-1', key: { last: 1, first: -1 } });
    // FerretDB 1.24 accepts `sparse: true` but does not report it back (and refuses TTL and
    // partial indexes outright); the key at least must survive. Normalisation of sparse, TTL
    // and partial entries is covered in mongodb-order.test.ts with MongoDB's own shapes.
    expect(byName.nickname_1?.key).toEqual({ nickname: 1 });
  });

  it('streams a collection in _id order in batches of the requested size', async () => {
    const batches = await collect(source.read('orders', { batchSize: 10 }));
    expect(batches.map((b) => b.docs.length)).toEqual([10, 10, 5]);
    const ids = batches.flatMap((b) => b.docs.map((d) => (d._id as Int32).value));
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(batches.every((b) => b.collection === 'orders' && b.rejects.length === 0)).toBe(true);
    expect(batches[0]!.position).toEqual({ kind: 'id', id: new Int32(10) });
    expect(batches.every((b) => b.bytes > 0)).toBe(true);
  });

  it('resumes after the last _id of a batch without repeating or skipping a document', async () => {
    const [first] = await collect(source.read('orders', { batchSize: 7 }));
    const rest = await collect(source.read('orders', { batchSize: 7, after: first!.position }));
    const ids = [...first!.docs, ...rest.flatMap((b) => b.docs)].map((d) => (d._id as Int32).value);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('reads an empty collection as no batches at all', async () => {
    expect(await collect(source.read('empty'))).toEqual([]);
  });

  it('keeps every BSON type FerretDB can store, with numbers still wrapped in their own type', async () => {
    const doc = {
      _id: new ObjectId(),
      int: new Int32(5),
      double: new Double(5),
      long: Long.fromString('9007199254740993'),
      date: new Date('2024-02-29T12:34:56.789Z'),
      uuid: new Binary(Buffer.from('0123456789abcdef'), Binary.SUBTYPE_UUID),
      bytes: new Binary(Buffer.from([0, 1, 2, 255]), Binary.SUBTYPE_DEFAULT),
      ts: new Timestamp({ t: 1_700_000_000, i: 7 }),
      regex: new BSONRegExp('^ferry', 'i'),
      nothing: null,
      text: 'zürich 🚢',
      flag: false,
      nested: { inner: { depth: new Int32(2) }, list: [new Int32(1), 'two', new Double(3.5), null] },
    };
    await seed.db(dbName).collection('types').insertOne(doc);
    const [read] = await readDocs(source, 'types');
    expect(read).toBeDefined();
    const got = read!;
    expect(got.int).toBeInstanceOf(Int32);
    expect(got.double).toBeInstanceOf(Double);
    expect(got.long).toBeInstanceOf(Long);
    expect(got.uuid).toBeInstanceOf(Binary);
    expect((got.uuid as Binary).sub_type).toBe(Binary.SUBTYPE_UUID);
    expect(got.ts).toBeInstanceOf(Timestamp);
    expect('missing' in got).toBe(false);
    expect(got.nothing).toBeNull();
    // Regexes stay BSONRegExp (not JS RegExp), so flags JavaScript lacks would survive too.
    expect(got.regex).toBeInstanceOf(BSONRegExp);
    // Canonical Extended JSON spells out every type, so equal text means equal types and values.
    expect(canonical(got)).toBe(canonical(doc));
  });

  it('refuses to read a collection that does not exist instead of yielding nothing', async () => {
    await expect(collect(source.read('no_such_collection'))).rejects.toMatchObject({
      code: 'SOURCE_UNKNOWN_COLLECTION',
    });
  });

  it('reads every collection in name order with readAll, or only those named', async () => {
    const all = await collect(source.readAll({ batchSize: 100 }));
    expect([...new Set(all.map((b) => b.collection))]).toEqual(['orders', 'people', 'types']);
    const only = await collect(source.readAll({ only: ['people'] }));
    expect(only.map((b) => b.collection)).toEqual(['people']);
  });

  it('stops at once when the signal is aborted, between batches', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = async () => {
      for await (const batch of source.read('orders', { batchSize: 5, signal: controller.signal })) {
        seen.push(batch.docs.length);
        controller.abort(new Error('stop here'));
      }
    };
    await expect(run()).rejects.toThrow('stop here');
    expect(seen).toEqual([5]);
  });
});

describe.skipIf(!url)('a live MongoDB source whose URI names no database', () => {
  const first = uniqueDatabase('all_a');
  const second = uniqueDatabase('all_b');
  let seed: MongoClient;
  let source: MongoSource;

  beforeAll(async () => {
    seed = seedClient(url!);
    await seedCollection(seed, first, 'users').insertOne({ _id: 1, n: 'a' });
    await seedCollection(seed, second, 'users').insertOne({ _id: 2, n: 'b' });
    await seedCollection(seed, second, 'with.dot').insertOne({ _id: 3 });
    source = await openMongoSource(url!);
  });

  afterAll(async () => {
    await source?.close();
    await seed?.db(first).dropDatabase();
    await seed?.db(second).dropDatabase();
    await seed?.close();
  });

  it('names collections database.collection so equal names in two databases stay apart', async () => {
    const names = (await source.listCollections()).map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([`${first}.users`, `${second}.users`, `${second}.with.dot`]),
    );
    expect(names.some((n) => /^(admin|local|config)\./.test(n))).toBe(false);
    const info = (await source.listCollections()).find((c) => c.name === `${second}.with.dot`);
    expect(info?.database).toBe(second);
  });

  it('reads a collection by its qualified name, even when the collection name has a dot', async () => {
    const [batch] = await collect(source.read(`${second}.with.dot`));
    expect(batch?.collection).toBe(`${second}.with.dot`);
    expect(batch?.docs.map((d) => canonical(d._id))).toEqual([canonical(new Int32(3))]);
    expect(await source.countDocuments(`${first}.users`)).toBe(1);
  });
});
