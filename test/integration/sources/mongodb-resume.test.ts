import { Binary, Double, EJSON, Int32, Long, ObjectId, Timestamp } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bracketOf, type MongoSource, openMongoSource } from '../../../src/sources/mongodb/index.js';
import { mongoUrl } from '../../support/services.js';
import { collect, seedClient, seedCollection, uniqueDatabase, withDatabase } from './mongodb-helpers.js';

const url = mongoUrl();
const canonical = (value: unknown) => EJSON.stringify(value, { relaxed: false });

/**
 * One `_id` of every type FerretDB 1.24 can store, a few of each. Values are chosen so no two
 * collide in FerretDB's unique index, which compares the JSON form only (it rejects Date(1)
 * next to Int32(1) as a duplicate key).
 */
const MIXED_IDS: unknown[] = [
  new ObjectId('65a000000000000000000001'),
  new ObjectId('65a000000000000000000002'),
  'apple',
  'Banana',
  'zürich',
  new Int32(-5),
  new Double(2.5),
  Long.fromNumber(10),
  new Int32(11),
  { k: 1 },
  { k: 2 },
  new Binary(Buffer.from('x'), 0),
  new Binary(Buffer.from('yy'), 4),
  false,
  true,
  new Date(1_000_000),
  new Date(2_000_000),
  new Timestamp({ t: 5, i: 1 }),
  new Timestamp({ t: 6, i: 0 }),
];

describe.skipIf(!url)('resuming and splitting a live collection whose _ids mix BSON types', () => {
  const dbName = uniqueDatabase('resume');
  let seed: MongoClient;
  let source: MongoSource;
  /** The server's own `_id` order, as canonical EJSON. */
  let serverOrder: string[];

  beforeAll(async () => {
    seed = seedClient(url!);
    const mixed = seedCollection(seed, dbName, 'mixed');
    await mixed.insertMany(MIXED_IDS.map((_id, i) => ({ _id, i })));
    // The driver replaces a null _id with a fresh ObjectId, so send the insert command itself.
    await seed.db(dbName).command({ insert: 'mixed', documents: [{ _id: null, i: -1 }] });
    const plain = seedCollection(seed, dbName, 'plain');
    await plain.insertMany(Array.from({ length: 103 }, (_, i) => ({ _id: new ObjectId(), i })));
    serverOrder = (await mixed.find({}, { sort: { _id: 1 }, promoteValues: false }).toArray()).map((d) =>
      canonical(d._id),
    );
    source = await openMongoSource(withDatabase(url!, dbName));
  });

  afterAll(async () => {
    await source?.close();
    await seed?.db(dbName).dropDatabase();
    await seed?.close();
  });

  const ids = async (batches: AsyncIterable<{ docs: readonly { _id?: unknown }[] }>) => {
    const out: string[] = [];
    for await (const batch of batches) out.push(...batch.docs.map((d) => canonical(d._id)));
    return out;
  };

  it('reads every document once, in MongoDB’s cross-type order', async () => {
    const read = await ids(source.read('mixed', { batchSize: 4 }));
    expect(read).toHaveLength(MIXED_IDS.length + 1);
    expect(read).toEqual(serverOrder);
    const values = (await collect(source.read('mixed'))).flatMap((b) => b.docs.map((d) => d._id));
    const brackets = values.map(bracketOf);
    expect(brackets).toEqual([...brackets].sort((a, b) => a - b));
  });

  it('resumes after any _id, continuing within its type and then through every later type', async () => {
    const everything = await collect(source.read('mixed', { batchSize: 1 }));
    for (const [index, batch] of everything.entries()) {
      const rest = await ids(source.read('mixed', { batchSize: 3, after: batch.position }));
      expect(rest, `after ${canonical(batch.position)}`).toEqual(serverOrder.slice(index + 1));
    }
  });

  it('resumes after an _id that has since been deleted, from the next one in order', async () => {
    const afterDeleted = await ids(source.read('mixed', { after: { kind: 'id', id: 'avocado' } }));
    expect(afterDeleted[0]).toBe(canonical('zürich'));
    expect(afterDeleted).toEqual(serverOrder.slice(serverOrder.indexOf(canonical('zürich'))));
  });

  it('splits a collection into ranges that together hold every document exactly once', async () => {
    for (const n of [1, 2, 3, 7, 20, 50]) {
      const ranges = await source.splitRanges('mixed', n);
      expect(ranges.length).toBeLessThanOrEqual(Math.max(1, n));
      expect(ranges[0]?.from).toBeUndefined();
      expect(ranges.at(-1)?.to).toBeUndefined();
      const parts = await Promise.all(
        ranges.map((range) => ids(source.readRange('mixed', range, { batchSize: 2 }))),
      );
      expect(parts.flat(), `n = ${n}`).toEqual(serverOrder);
      if (n > 1 && n <= serverOrder.length) expect(parts.every((p) => p.length > 0)).toBe(true);
    }
  });

  it('balances ranges of a large single-type collection and resumes inside one range', async () => {
    const ranges = await source.splitRanges('plain', 4);
    const sizes = await Promise.all(
      ranges.map(async (range) => (await ids(source.readRange('plain', range, { batchSize: 10 }))).length),
    );
    expect(sizes).toEqual([25, 25, 25, 28]);
    const second = ranges[1]!;
    const [head] = await collect(source.readRange('plain', second, { batchSize: 10 }));
    const tail = await ids(source.readRange('plain', second, { batchSize: 10, after: head!.position }));
    expect(head!.docs.length + tail.length).toBe(25);
  });

  it('gives one open range for an empty collection, so later inserts are not missed', async () => {
    await seed.db(dbName).createCollection('nothing');
    expect(await source.splitRanges('nothing', 4)).toEqual([{}]);
  });
});
