import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Document } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { inferMapping } from '../../../src/infer/infer-mapping.js';
import type { Plan } from '../../../src/mapping/model.js';
import { writeDumpDirectory } from '../../../src/sources/dump/write-dump-directory.js';
import { openSource } from '../../../src/sources/open.js';
import { decimalsAsStrings } from '../../support/ferretdb-documents.js';
import { test } from '../../support/fixtures.js';
import { datasetPath, mongoUrl, postgresUrl } from '../../support/services.js';
import { loadEachSource } from './load-each-source.js';
import { dumpSchema } from './support.js';

/**
 * The live source's fast path must write exactly what the dump path writes: the same 5000
 * real sales documents, inserted into FerretDB and written as a mongodump directory, are
 * backfilled from each into its own schema, and every table must hold the same rows.
 * FerretDB v1.24 cannot store Decimal128, so both sides carry prices as exact decimal strings.
 */
const archive = datasetPath('sample_supplies.archive.gz');
const mongo = mongoUrl();
const database = `ferry_live_raw_${process.pid}_${Date.now().toString(36)}`;

describe.skipIf(!postgresUrl() || !mongo || !archive)('backfill from a live server (the raw path)', () => {
  let client: MongoClient;
  let workDir = '';
  let dumpDir = '';
  let liveUri = '';
  let plan: Plan;

  beforeAll(async () => {
    const docs: Document[] = [];
    const source = await openSource(archive!);
    try {
      for await (const batch of source.readAll())
        docs.push(...batch.docs.map((d) => decimalsAsStrings(d) as Document));
    } finally {
      await source.close();
    }
    client = new MongoClient(mongo!, { serverSelectionTimeoutMS: 5000 });
    await client.db(database).collection('sales').insertMany(docs, { ordered: true });
    workDir = await mkdtemp(path.join(tmpdir(), 'ferry-live-raw-'));
    dumpDir = path.join(workDir, 'dump');
    await writeDumpDirectory(dumpDir, database, [{ name: 'sales', docs }]);
    const dump = await openSource(dumpDir);
    try {
      plan = (await inferMapping(dump)).plan;
    } finally {
      await dump.close();
    }
    const url = new URL(mongo!);
    url.pathname = `/${database}`;
    liveUri = url.toString();
  }, 120_000);

  afterAll(async () => {
    await client?.db(database).dropDatabase();
    await client?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('loads the same rows, byte for byte, as the dump of the same documents', async ({ db, pgUrl }) => {
    await loadEachSource(db, plan, 5000, [
      [dumpDir, 'from_dump'],
      [liveUri, 'from_live'],
    ]);
    const fromDump = await dumpSchema(pgUrl, 'from_dump');
    const fromLive = await dumpSchema(pgUrl, 'from_live');
    expect(Object.keys(fromDump).length).toBeGreaterThan(1);
    expect(fromLive).toEqual(fromDump);
  }, 180_000);
});
