import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Document } from 'bson';
import { describe, expect } from 'vitest';
import { binaryColumnTypes } from '../../../src/copy/copy-binary.js';
import { generateMarketplace, generateNastyDocuments, seedFromEnv } from '../../../src/generate/index.js';
import { backfill } from '../../../src/load/backfill.js';
import { prepareSchema } from '../../../src/load/schema-setup.js';
import { compiledCollection } from '../../../src/mapping/compile.js';
import type { Plan } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';
import { type PostgresFixtures, test } from '../../support/fixtures.js';
import { postgresUrl } from '../../support/services.js';
import { planFromDocs } from '../../unit/mapping/support/plan-from-docs.js';
import { customers, dumpSchema, orders, sql, plan as supportPlan } from './support.js';

/**
 * Binary COPY must store exactly what text COPY stores: the same documents loaded both ways
 * give identical tables (PostgreSQL's own text of every row) and the same rejects. Nasty
 * documents cover every type's odd values (NaN, -0, huge and tiny numerics, BC dates, empty
 * strings, escapes); the marketplace covers a realistic plan end to end.
 */
const SEED = seedFromEnv(20261122);
const available = postgresUrl() !== undefined;

describe.skipIf(!available)('binary COPY', () => {
  async function loadBothWays(
    { db, pgUrl: url }: Pick<PostgresFixtures, 'db' | 'pgUrl'>,
    name: string,
    plan: Plan,
    collections: Map<string, Document[]>,
  ) {
    const archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-binary-')), `${name}.archive`);
    await writeArchive(
      archive,
      name,
      [...collections].map(([collection, docs]) => ({ name: collection, docs })),
    );
    for (const binaryCopy of [true, false]) {
      const source = await openSource(archive);
      try {
        const summary = await backfill({
          source,
          target: db,
          plan,
          schemas: [`${name}_${binaryCopy ? 'binary' : 'text'}`],
          batchSize: 500,
          binaryCopy,
          encodeWorkers: { threads: 0 },
        });
        expect(summary.collections.every((c) => c.phase === 'done')).toBe(true);
      } finally {
        await source.close();
      }
    }
    const binary = await dumpSchema(url, `${name}_binary`);
    // The comparison means something only if rows went in binary: tables whose columns all have a binary form.
    const binaryTables = plan.collections
      .flatMap((c) => compiledCollection(plan, c.name).tables)
      .filter((t) => binaryColumnTypes(t.columnTypes) !== undefined)
      .map((t) => t.name);
    expect(binaryTables.reduce((n, t) => n + (binary[t]?.rows ?? 0), 0)).toBeGreaterThan(100);
    expect(binary).toEqual(await dumpSchema(url, `${name}_text`));
    const rejects = (schema: string) =>
      sql(
        url,
        'select collection, doc_id, stage, code from ferry.rejects where schema = $1 order by 1, 2, 3, 4',
        [schema],
      );
    expect(await rejects(`${name}_binary`)).toEqual(await rejects(`${name}_text`));
  }

  test(`stores nasty documents exactly as text COPY does (seed ${SEED})`, async ({ db, pgUrl }) => {
    const sample = new Map<string, Document[]>();
    for (const { collection, doc } of generateNastyDocuments(SEED, 1500)) {
      sample.set(collection, [...(sample.get(collection) ?? []), doc]);
    }
    const loadable = new Map<string, Document[]>();
    for (const { collection, doc } of generateNastyDocuments(SEED + 1, 3000, { unloadable: false })) {
      loadable.set(collection, [...(loadable.get(collection) ?? []), doc]);
    }
    await loadBothWays({ db, pgUrl }, 'nasty', parsePlan(planFromDocs(sample)), loadable);
  });

  test('stores the generated marketplace exactly as text COPY does', async ({ db, pgUrl }) => {
    const data = generateMarketplace({ seed: SEED, scale: 4000 });
    const collections = new Map(data.map((c) => [c.name, [...c.docs()]]));
    await loadBothWays({ db, pgUrl }, 'market', parsePlan(planFromDocs(collections)), collections);
  });

  test('loads as text into a table whose column type was changed by hand, where binary rows would all fail', async ({
    db,
    pgUrl: url,
  }) => {
    await prepareSchema(db, supportPlan, 'altered', ['customers', 'orders']);
    await sql(url, 'alter table altered.orders alter column qty type bigint');
    const archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-altered-')), 'shop.archive');
    await writeArchive(archive, 'shop', [
      { name: 'customers', docs: customers(10) },
      { name: 'orders', docs: orders(300) },
    ]);
    const source = await openSource(archive);
    try {
      const summary = await backfill({
        source,
        target: db,
        plan: supportPlan,
        schemas: ['altered'],
        binaryCopy: true,
      });
      expect(summary.collections.find((c) => c.collection === 'orders')).toMatchObject({
        phase: 'done',
        migrated: 300,
        rejected: 0,
      });
    } finally {
      await source.close();
    }
    const [row] = await sql<{ n: string }>(url, 'select sum(qty) as n from altered.orders');
    expect(Number(row?.n)).toBe(orders(300).reduce((n, d) => n + Number(d.qty), 0));
  });
});
