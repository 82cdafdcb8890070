import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Document, Int32, ObjectId } from 'bson';
import { describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';
import { keyRangeBounds, keyRanges, readTargetRows } from '../../../src/verify/target-reader.js';
import { test } from '../../support/fixtures.js';
import {
  type ColumnInput,
  child,
  col,
  collection,
  objectIdColumn,
  planOf,
  table,
} from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';

/**
 * Deep verify cuts one collection's root keys into ranges, one per target thread. The ranges
 * must hold every document exactly once, with its child rows, whatever the key's type: the
 * bounds cross a thread boundary as text and PostgreSQL reads them back as the key's type.
 */
const KEYS: readonly {
  readonly kind: string;
  readonly id: ColumnInput;
  readonly make: (i: number) => unknown;
}[] = [
  {
    kind: 'uuid (ObjectId)',
    id: objectIdColumn,
    make: (i) => new ObjectId(i.toString(16).padStart(24, '0')),
  },
  {
    kind: 'integer',
    id: { ...col('id', ['_id'], 'integer', 'int'), nullable: false },
    make: (i) => new Int32(i * 7 - 1000),
  },
  { kind: 'text', id: { ...col('id', ['_id'], 'text', 'string'), nullable: false }, make: (i) => `key ${i}` },
];

describe.skipIf(!postgresUrl())('the key ranges deep verify cuts a collection into', () => {
  test.for(KEYS)(
    'read every document once, with its child rows, for $kind keys',
    async ({ kind, id, make }, { db }) => {
      const schema = `ranges_${kind.replace(/\W.*/, '')}`;
      const plan = parsePlan(
        planOf(
          collection('things', [
            table('things', [id, col('n', ['n'], 'integer', 'int')]),
            child('things_parts', 'things', ['parts'], 'array', [col('n', ['n'], 'integer', 'int')]),
          ]),
        ),
      );
      const docs: Document[] = Array.from({ length: 301 }, (_, i) => ({
        _id: make(i),
        n: new Int32(i),
        parts: [{ n: new Int32(i) }, { n: new Int32(1000 + i) }],
      }));
      const archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-ranges-')), 'things.archive');
      await writeArchive(archive, 'app', [{ name: 'things', docs }]);
      const source = await openSource(archive);
      try {
        expect((await backfill({ source, target: db, plan, schemas: [schema] })).ok).toBe(true);
      } finally {
        await source.close();
      }
      const where = { plan, collection: 'things', schema };

      const bounds = await keyRangeBounds(db, where, docs.length, 3, 50);
      expect(bounds).toHaveLength(2);
      const perRange: number[][] = [];
      for (const range of keyRanges(bounds)) {
        const seen: number[] = [];
        for await (const page of readTargetRows(db, where, { batchSize: 40, ...range }))
          for (const item of page) {
            const [root] = item.rows.get('things')!;
            seen.push(Number(root!.n));
            expect(item.rows.get('things_parts')!.map((r) => Number(r.n))).toEqual([
              Number(root!.n),
              1000 + Number(root!.n),
            ]);
          }
        perRange.push(seen);
      }
      expect(perRange.map((r) => r.length)).toEqual([100, 100, 101]);
      expect(perRange.flat().sort((a, b) => a - b)).toEqual(docs.map((_, i) => i));
    },
  );

  test('cut nothing when the collection has too few rows for a range per part', async ({ db }) => {
    const plan = parsePlan(planOf(collection('few', [table('few', [objectIdColumn])])));
    await db.query('create schema few_rows');
    await db.query('create table few_rows.few (id uuid primary key, _extra jsonb)');
    await db.query('insert into few_rows.few (id) select gen_random_uuid() from generate_series(1, 99)');
    expect(await keyRangeBounds(db, { plan, collection: 'few', schema: 'few_rows' }, 99, 2, 50)).toEqual([]);
    expect(keyRanges([])).toEqual([{}]);
  });
});
