import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';
import { verify } from '../../../src/verify/verify.js';
import { test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { orderDocuments, ordersPlan } from './support/orders.js';

/**
 * Deep verify with its work on threads: the source's BSON hashed on a hashing thread from the
 * first batch on (no warm-up), the target read and rebuilt on threads with their own
 * connections. The results must be those of the calling thread: the same verdicts, the same
 * differences, and a thread that cannot connect only moves its work back.
 */
const url = postgresUrl();
const plan = parsePlan(ordersPlan);
const docs = orderDocuments(1500).filter((d) => !String(d.customer).includes('\u0000'));

describe.skipIf(!url)('deep verify on worker threads', () => {
  test('matches a clean load, finds a changed price, and falls back when a thread cannot connect', async ({
    db,
    pgUrl,
    pgClient,
  }) => {
    const archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-threads-')), 'shop.archive');
    await writeArchive(archive, 'shop', [{ name: 'orders', docs }]);
    const source = await openSource(archive);
    try {
      await backfill({ source, target: db, plan, schemas: ['threads'] });
      const threaded = (targetUrl: string) =>
        verify({
          source,
          db,
          plan,
          schema: 'threads',
          record: false,
          batchSize: 100,
          targetUrl,
          hashThreads: { warmup: 0 },
        });

      const clean = await threaded(pgUrl);
      expect(clean.ok).toBe(true);
      expect(clean.collections[0]).toMatchObject({ compared: docs.length, matched: docs.length });

      const changed = docs[700]!;
      await pgClient.query(
        `update threads.orders_items set price = price + 1 where parent_id = $1 and idx = 1`,
        [objectIdToUuid(changed._id)],
      );
      const found = await threaded(pgUrl);
      expect(found.ok).toBe(false);
      expect(found.collections[0]!.differences).toEqual([
        expect.objectContaining({
          kind: 'content',
          id: changed._id.toHexString(),
          fields: [expect.objectContaining({ path: 'items.1.price' })],
        }),
      ]);

      // A database that does not exist: the target threads fail, the calling thread does the work.
      const nowhere = new URL(pgUrl);
      nowhere.pathname = '/ferry_no_such_database';
      const fellBack = await threaded(nowhere.toString());
      expect(fellBack.collections[0]!.differences.map((d) => d.id)).toEqual([changed._id.toHexString()]);
    } finally {
      await source.close();
    }
  });

  test('cuts one big collection between the target threads, matching a clean load and finding a change in each half', async ({
    db,
    pgUrl,
    pgClient,
  }) => {
    // Above two threads' minimum share (5000 root rows each), so each thread reads a half.
    const many = orderDocuments(11_000).filter((d) => !String(d.customer).includes('\u0000'));
    const archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-threads-')), 'shop.archive');
    await writeArchive(archive, 'shop', [{ name: 'orders', docs: many }]);
    const source = await openSource(archive);
    try {
      await backfill({ source, target: db, plan, schemas: ['halves'] });
      const threaded = () =>
        verify({ source, db, plan, schema: 'halves', record: false, targetUrl: pgUrl, parallel: 2 });
      const clean = await threaded();
      expect(clean.ok).toBe(true);
      // No bucket disagreed: the halves held every document once (an overlap or a gap would
      // only be cleared by the narrowing pass, which rereads the target on this thread).
      expect(clean.collections[0]).toMatchObject({
        compared: many.length,
        matched: many.length,
        buckets: { mismatched: 0 },
      });

      const { rows } = await pgClient.query<{ id: string }>(
        `(select id::text from halves.orders order by id limit 1) union all (select id::text from halves.orders order by id desc limit 1)`,
      );
      for (const { id } of rows)
        await pgClient.query(
          `update halves.orders_items set price = price + 1 where parent_id = $1 and idx = 0`,
          [id],
        );
      const found = await threaded();
      expect(found.ok).toBe(false);
      expect(found.collections[0]!.differences.map((d) => [d.kind, d.fields?.map((f) => f.path)])).toEqual([
        ['content', ['items.0.price']],
        ['content', ['items.0.price']],
      ]);
    } finally {
      await source.close();
    }
  });
});
