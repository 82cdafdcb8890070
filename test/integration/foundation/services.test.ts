import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../../src/target/connect.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../../support/services.js';

describe.skipIf(!postgresUrl())('the throwaway PostgreSQL cluster', () => {
  it('accepts connections and is PostgreSQL 15', async () => {
    const pool = await connectPostgres(postgresUrl()!);
    const { rows } = await pool.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    await pool.end();
    expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150000);
    expect(Number(rows[0]!.v)).toBeLessThan(160000);
  });

  it('gives each test file a database of its own', async () => {
    const db = await createTestDatabase('own');
    const pool = await connectPostgres(db.url);
    await pool.query('create table t (x int)');
    await pool.end();
    await db.drop();
  });
});

const mongo = mongoUrl();
describe.skipIf(!mongo)('the FerretDB server', () => {
  const client = new MongoClient(mongo ?? 'mongodb://unused', { serverSelectionTimeoutMS: 5000 });
  afterAll(() => client.close());

  it('writes and reads a document through the official mongodb driver', async () => {
    const collection = client.db('foundation_test').collection('docs');
    await collection.deleteMany({});
    const _id = new ObjectId();
    await collection.insertOne({ _id, name: 'ferry', tags: ['a', 'b'], nested: { n: 1 } });
    const found = await collection.findOne({ _id });
    expect(found).toEqual({ _id, name: 'ferry', tags: ['a', 'b'], nested: { n: 1 } });
  });
});
