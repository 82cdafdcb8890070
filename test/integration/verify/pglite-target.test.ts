import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { openSource } from '../../../src/sources/open.js';
import { openTarget } from '../../../src/target/open-target.js';
import { verify } from '../../../src/verify/verify.js';
import { orderDocuments, ordersPlan, writeOrdersFile } from './support/orders.js';

/** The embedded PGlite target (no --target, no DATABASE_URL) verifies the same way. */
describe('ferry verify on the embedded PGlite target', () => {
  it('passes on a clean load and names a changed child value', async () => {
    const plan = parsePlan(ordersPlan);
    const docs = orderDocuments(300);
    const file = await writeOrdersFile(docs);
    const db = await openTarget(undefined, {
      embeddedDir: await mkdtemp(path.join(tmpdir(), 'ferry-pglite-')),
    });
    try {
      const withSource = async <T>(fn: (s: Awaited<ReturnType<typeof openSource>>) => Promise<T>) => {
        const source = await openSource(file);
        try {
          return await fn(source);
        } finally {
          await source.close();
        }
      };
      await withSource((source) => backfill({ source, target: db, plan }));
      const clean = await withSource((source) => verify({ source, db, plan }));
      expect(clean.collections[0]).toMatchObject({ ok: true, matched: 300, rejected: 1 });
      expect(clean).toMatchObject({ verdict: 'incomplete', ok: false });
      await db.query('update orders_items set qty = qty + 1 where parent_id = $1 and idx = 0', [
        objectIdToUuid(docs[3]!._id),
      ]);
      const damaged = await withSource((source) => verify({ source, db, plan }));
      expect(damaged.collections[0]!.differences).toEqual([
        { kind: 'content', id: docs[3]!._id.toHexString(), fields: [{ path: 'items.0.qty', kind: 'value' }] },
      ]);
    } finally {
      await db.close();
    }
  }, 600_000);
});
