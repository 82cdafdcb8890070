import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { customers, dumpSchema, orders, plan, sql } from './support.js';

/**
 * Encoding on a worker thread must change nothing but where the CPU time is spent: the same
 * rows, the same rejects (a document toRows refuses, a frame that does not decode), the same
 * counts, and the archive's checksum still weighed against the rejects the thread found.
 */
const available = postgresUrl() !== undefined;

describe.skipIf(!available)('backfill with encoding threads', () => {
  let archive: string;

  beforeAll(async () => {
    const docs = orders(600);
    docs[100] = { ...docs[100], note: 'nul \u0000 inside' }; // a transform reject
    docs[450] = { ...docs[450], note: 'zzMANGLEzz' }; // made undecodable below: a read reject
    archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-workers-')), 'shop.archive');
    await writeArchive(archive, 'shop', [
      { name: 'customers', docs: customers(10) },
      { name: 'orders', docs },
    ]);
    const bytes = await readFile(archive);
    bytes[bytes.indexOf('zzMANGLEzz') + 2] = 0xff; // not UTF-8: the document no longer decodes
    await writeFile(archive, bytes);
  });
  let threadBatches = 0;

  async function load(db: TargetDatabase, schema: string, threads: number) {
    const source = await openSource(archive);
    try {
      return await backfill({
        source,
        target: db,
        plan,
        schemas: [schema],
        batchSize: 50,
        encodeWorkers: { threads, warmup: 0, onThreadBatch: () => threadBatches++ },
      });
    } finally {
      await source.close();
    }
  }

  test('loads the same tables and rejects on a thread as on the calling thread', async ({
    db,
    pgUrl: url,
  }) => {
    const threaded = await load(db, 'threaded', 1);
    // 600 orders and 10 customers in batches of 50: 13 batches, every one on the thread.
    expect(threadBatches).toBe(13);
    const inline = await load(db, 'inline', 0);
    expect(threadBatches).toBe(13);
    for (const summary of [threaded, inline]) {
      const byName = Object.fromEntries(summary.collections.map((c) => [c.collection, c]));
      expect(byName.orders).toMatchObject({ phase: 'done', read: 600, migrated: 598, rejected: 2 });
      expect(byName.customers).toMatchObject({ phase: 'done', read: 10, migrated: 10, rejected: 0 });
    }
    expect(await dumpSchema(url, 'threaded')).toEqual(await dumpSchema(url, 'inline'));
    const rejects = (schema: string) =>
      sql(url, `select stage, code, doc_id from ferry.rejects where schema = $1 order by stage, code`, [
        schema,
      ]);
    const threadedRejects = await rejects('threaded');
    expect(threadedRejects.map((r) => [r.stage, r.code])).toEqual([
      ['read', 'SOURCE_BAD_DOCUMENT'],
      ['transform', 'STRING_CONTAINS_NUL'],
    ]);
    expect(threadedRejects).toEqual(await rejects('inline'));
  });
});
