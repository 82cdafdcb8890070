import { Binary, BSON, Double, EJSON, Int32, Long, ObjectId } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESERIALIZE_OPTIONS } from '../../../src/sources/bson/decode-frame.js';
import { type MongoSource, openMongoSource } from '../../../src/sources/mongodb/index.js';
import { mongoUrl } from '../../support/services.js';
import { collect, seedClient, seedCollection, uniqueDatabase, withDatabase } from './mongodb-helpers.js';

const url = mongoUrl();
const canonical = (value: unknown) => EJSON.stringify(value, { relaxed: false });

/** `_id`s of several BSON types, so the position cut out of a frame's bytes is tested on each. */
const IDS: unknown[] = [
  'apple',
  new Int32(-5),
  new Double(2.5),
  Long.fromNumber(10),
  { k: 1 },
  new Binary(Buffer.from('yy'), 4),
  new Date(1_000_000),
  ...Array.from({ length: 2493 }, (_, i) => new ObjectId(`65b${i.toString(16).padStart(21, '0')}`)),
];

describe.skipIf(!url)('a live source read with `raw`', () => {
  const dbName = uniqueDatabase('raw');
  let seed: MongoClient;
  let source: MongoSource;

  beforeAll(async () => {
    seed = seedClient(url!);
    await seedCollection(seed, dbName, 'things').insertMany(
      IDS.map((_id, i) => ({
        _id,
        i: new Int32(i),
        name: `thing ${i}`,
        tags: ['a', i % 3 === 0 ? 'b' : 'c'],
      })),
    );
    source = await openMongoSource(withDatabase(url!, dbName));
  }, 60_000);

  afterAll(async () => {
    await source?.close();
    await seed?.db(dbName).dropDatabase();
    await seed?.close();
  });

  it('hands over the server’s BSON undecoded, as the same documents and positions a decoded read gives', async () => {
    const decoded = await collect(source.read('things', { batchSize: 1000 }));
    const raw = await collect(source.read('things', { batchSize: 1000, raw: true }));
    expect(raw.map((b) => [b.docs.length, b.raw?.frames.length])).toEqual([
      [0, 1000],
      [0, 1000],
      [0, 500],
    ]);
    const frames = raw.flatMap((b) => [...(b.raw?.frames ?? [])]);
    expect(frames.every((f) => Buffer.isBuffer(f.bytes))).toBe(true);
    expect(frames.map((f) => canonical(BSON.deserialize(f.bytes, DESERIALIZE_OPTIONS)))).toEqual(
      decoded.flatMap((b) => b.docs.map(canonical)),
    );
    expect(raw.map((b) => canonical(b.position))).toEqual(decoded.map((b) => canonical(b.position)));
    expect(raw.map((b) => b.bytes)).toEqual(decoded.map((b) => b.bytes));
  });

  it('resumes after a raw batch’s position without repeating or skipping a document', async () => {
    const [first] = await collect(source.read('things', { batchSize: 700, raw: true }));
    const rest = await collect(source.read('things', { batchSize: 1000, raw: true, after: first!.position }));
    const ids = [first!, ...rest].flatMap((b) =>
      (b.raw?.frames ?? []).map((f) => canonical(BSON.deserialize(f.bytes, DESERIALIZE_OPTIONS)._id)),
    );
    expect(ids).toHaveLength(IDS.length);
    expect(new Set(ids).size).toBe(IDS.length);
  });
});
