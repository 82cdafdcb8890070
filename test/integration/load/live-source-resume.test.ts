import { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { inferMapping } from '../../../src/infer/infer-mapping.js';
import { backfill } from '../../../src/load/backfill.js';
import { readCheckpoint } from '../../../src/load/state-store.js';
import type { Plan } from '../../../src/mapping/model.js';
import { openSource } from '../../../src/sources/open.js';
import { test } from '../../support/fixtures.js';
import { mongoUrl, postgresUrl } from '../../support/services.js';
import { uniqueDatabase, withDatabase } from '../sources/mongodb-helpers.js';

/**
 * The live source fetches a batch ahead while the backfill loads the previous one. A
 * backfill from FerretDB stopped by its signal mid-way (so a fetch is usually in flight)
 * must leave a checkpoint that covers exactly the documents committed, nothing fetched
 * ahead, and a resumed run must load the rest: every document once.
 */
const mongo = mongoUrl();
const database = uniqueDatabase('live_resume');
const DOCS = 2000;
const SCHEMA = 'live_resume';

/** `_id`s in the order of `i`, so "the first n documents by _id" is "i < n". */
const idOf = (i: number) => new ObjectId(`65a0000000000000${i.toString(16).padStart(8, '0')}`);

describe.skipIf(!postgresUrl() || !mongo)('a live backfill stopped by its signal and resumed', () => {
  let client: MongoClient;
  let uri = '';
  let plan: Plan;

  beforeAll(async () => {
    client = new MongoClient(mongo!, { serverSelectionTimeoutMS: 5000 });
    const docs = Array.from({ length: DOCS }, (_, i) => ({ _id: idOf(i), i, name: `item ${i}` }));
    await client.db(database).collection('items').insertMany(docs);
    uri = withDatabase(mongo!, database);
    const source = await openSource(uri);
    try {
      plan = (await inferMapping(source)).plan;
    } finally {
      await source.close();
    }
  }, 60_000);

  afterAll(async () => {
    await client?.db(database).dropDatabase();
    await client?.close();
  });

  test('checkpoints only what it committed and loads every document exactly once on resume', async ({
    db,
  }) => {
    const loaded = async () =>
      (
        await db.query<{ n: string; distinct: string; below: string }>(
          `select count(*) as n, count(distinct i) as distinct, count(*) filter (where i < $1) as below
           from ${SCHEMA}.items`,
          [DOCS],
        )
      ).rows[0]!;

    const stop = new AbortController();
    const first = await openSource(uri);
    try {
      const summary = await backfill({
        source: first,
        target: db,
        plan,
        schemas: [SCHEMA],
        batchSize: 100,
        signal: stop.signal,
        onProgress: (p) => {
          if (p.phase === 'loading' && p.read >= 500) stop.abort();
        },
      });
      expect(summary.collections.map((c) => c.phase)).toEqual(['stopped']);
    } finally {
      await first.close();
    }
    const checkpoint = await readCheckpoint(db, SCHEMA, 'items');
    expect(checkpoint.complete).toBe(false);
    expect(checkpoint.read).toBeGreaterThanOrEqual(500);
    expect(checkpoint.read).toBeLessThan(DOCS);
    // The checkpoint stands at the last _id committed: the table holds exactly the documents
    // before it (i < read), none of a batch that was only fetched ahead.
    const committed = await db.query<{ first: string; last: string; n: string }>(
      `select min(i) as first, max(i) as last, count(*) as n from ${SCHEMA}.items`,
    );
    expect(committed.rows[0]).toEqual({ first: 0, last: checkpoint.read - 1, n: String(checkpoint.read) });
    expect(checkpoint.position).toEqual({ kind: 'id', id: idOf(checkpoint.read - 1) });

    const second = await openSource(uri);
    try {
      const summary = await backfill({ source: second, target: db, plan, schemas: [SCHEMA], batchSize: 100 });
      expect(summary.ok).toBe(true);
      expect(summary.collections.map((c) => [c.phase, c.run.read, c.read, c.migrated])).toEqual([
        ['done', DOCS - checkpoint.read, DOCS, DOCS],
      ]);
    } finally {
      await second.close();
    }
    expect(await loaded()).toEqual({ n: String(DOCS), distinct: String(DOCS), below: String(DOCS) });
  }, 120_000);
});
