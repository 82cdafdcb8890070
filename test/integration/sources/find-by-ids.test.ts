import { Int32, Long, ObjectId } from 'bson';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findByIds, isFerretDb } from '../../../src/sources/mongodb/find-by-ids.js';
import { mongoUrl } from '../../support/services.js';
import { seedClient, seedCollection, uniqueDatabase } from './mongodb-helpers.js';

const url = mongoUrl();

describe.skipIf(!url)('reading documents by _id on FerretDB', () => {
  const dbName = uniqueDatabase('byids');
  const ids = Array.from({ length: 50 }, (_, i) => new ObjectId(`65c${i.toString(16).padStart(21, '0')}`));
  let client: MongoClient;

  beforeAll(async () => {
    client = seedClient(url!);
    await seedCollection(client, dbName, 'things').insertMany(
      [...ids, 'text-id'].map((_id, i) => ({ _id, n: new Int32(i), big: Long.fromNumber(i * 1e10) })),
    );
  }, 60_000);

  afterAll(async () => {
    await client?.db(dbName).dropDatabase();
    await client?.close();
  });

  it('knows the server is FerretDB from buildInfo', async () => {
    expect(await isFerretDb(client.db(dbName))).toBe(true);
  });

  it('finds every present id of a batch, leaves out the absent ones, and keeps Int32 and Long', async () => {
    const wanted = [...ids.slice(0, 30), new ObjectId(), 'text-id', 'no-such-id'];
    const docs = await findByIds(client.db(dbName), 'things', wanted);
    expect(docs.map((d) => String(d._id)).sort()).toEqual(
      [...ids.slice(0, 30).map(String), 'text-id'].sort(),
    );
    const text = docs.find((d) => d._id === 'text-id')!;
    expect(text.n).toBeInstanceOf(Int32);
    expect(text.big).toBeInstanceOf(Long);
    expect((text.big as Long).toString()).toBe(String(50 * 1e10));
  });

  it('reads one id and no ids without a batch', async () => {
    expect(await findByIds(client.db(dbName), 'things', [])).toEqual([]);
    const [one] = await findByIds(client.db(dbName), 'things', [ids[7]]);
    expect((one!.n as Int32).value).toBe(7);
  });
});
