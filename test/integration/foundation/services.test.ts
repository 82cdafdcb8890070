import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { connectPostgres } from '../../../src/target/connect.js';
import { createTestDatabase, datasetPath, mongoUrl, postgresUrl } from '../../support/services.js';

describe.skipIf(!postgresUrl())('the throwaway PostgreSQL cluster', () => {
  it('accepts connections and is PostgreSQL 15', async () => {
    const pool = await connectPostgres(postgresUrl()!);
    const { rows } = await pool.query<{ v: string }>(`select current_setting('server_version_num') as v`);
    await pool.end();
    expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150000);
    expect(Number(rows[0]!.v)).toBeLessThan(160000);
  });

  it('gives each test file a database of its own, which no other sees and which is gone once dropped', async () => {
    // Made in the same instant, as two test files starting together would.
    const [first, second] = await Promise.all([createTestDatabase('own'), createTestDatabase('own')]);
    const names = [first, second].map((db) => new URL(db.url).pathname.slice(1));
    try {
      expect(names[0]).not.toBe(names[1]);
      const writer = await connectPostgres(first.url);
      await writer.query('create table t (x int)');
      await writer.end();
      const reader = await connectPostgres(second.url);
      const { rows } = await reader.query<{ t: string | null }>(`select to_regclass('public.t')::text as t`);
      await reader.end();
      expect(rows).toEqual([{ t: null }]);
    } finally {
      await first.drop();
      await second.drop();
    }
    const admin = await connectPostgres(postgresUrl()!);
    const left = await admin.query('select datname from pg_database where datname = any($1)', [names]);
    await admin.end();
    expect(left.rows).toEqual([]);
  });
});

describe('a dataset or service that is missing', () => {
  const ci = process.env.CI;
  afterEach(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    vi.restoreAllMocks();
  });

  it('fails the test file in CI, naming what is missing', () => {
    process.env.CI = 'true';
    expect(() => datasetPath('no/such/dataset.json')).toThrow(
      /dataset no\/such\/dataset\.json is not available: .*does not exist \(CI requires it/,
    );
  });

  it('skips elsewhere, with the reason printed', () => {
    delete process.env.CI;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(datasetPath('no/such/dataset.json')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/SKIPPING: dataset no\/such\/dataset\.json/));
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
