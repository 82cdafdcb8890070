import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BSON, Decimal128, Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMarketplaceArchive } from '../../../src/generate/index.js';
import { BsonToCanonicalEjson } from '../../../src/mapping/bson-to-canonical-ejson.js';
import { canonicalEqual } from '../../../src/mapping/canonical/index.js';
import type { Plan } from '../../../src/mapping/model.js';
import { RowsToBson } from '../../../src/mapping/rows-to-bson.js';
import { toDoc } from '../../../src/mapping/to-doc.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { readTargetRows } from '../../../src/verify/target-reader.js';
import { createTestDatabase, datasetPath, postgresUrl } from '../../support/services.js';
import { migrateInto as migrateSource } from './migrate-into.js';

/**
 * The export writes BSON straight from the rows; it must write exactly what
 * `BSON.serialize(toDoc(rows))` writes, or decline the document. The Extended JSON export
 * writes its text from those bytes (BsonToCanonicalEjson), which must be exactly what
 * `EJSON.stringify(toDoc(rows), { relaxed: false })` writes, or decline. These tests read the
 * rows back from real PostgreSQL and compare both byte for byte, document by document.
 */
const url = postgresUrl();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-rows-to-bson-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function migrateInto(db: TargetDatabase, location: string, name: string): Promise<Plan> {
  return migrateSource(db, location, path.join(dir, `${name}-migrations`));
}

interface Comparison {
  written: number;
  declined: number;
  /** Of the documents written, those whose Extended JSON text the walker declined. */
  textDeclined: number;
  /** The documents the writer wrote, decoded, by collection. */
  docs: Map<string, BSON.Document[]>;
}

/**
 * Every document of every collection: the writer's bytes against toDoc's, and the text walked
 * from them against toDoc's Extended JSON, where they wrote.
 */
async function compareAll(db: TargetDatabase, plan: Plan): Promise<Comparison> {
  const out: Comparison = { written: 0, declined: 0, textDeclined: 0, docs: new Map() };
  const text = new BsonToCanonicalEjson();
  for (const { name: collection } of plan.collections) {
    const writer = RowsToBson.for(plan, collection);
    const docs: BSON.Document[] = [];
    out.docs.set(collection, docs);
    for await (const page of readTargetRows(db, { plan, collection, schema: 'src' }, { batchSize: 700 })) {
      writer?.reset();
      for (const item of page) {
        if (writer === undefined || !writer.write(item.rows)) {
          out.declined++;
          continue;
        }
        const written = Buffer.from(writer.bytes().subarray(0, writer.length));
        writer.reset();
        const doc = toDoc(plan, collection, item.rows);
        const expected = Buffer.from(BSON.serialize(doc));
        if (!written.equals(expected))
          expect.fail(
            `${collection} key ${String(item.key)}: the writer's BSON differs from toDoc's\n` +
              `writer: ${EJSON.stringify(BSON.deserialize(written))}\ntoDoc:  ${EJSON.stringify(BSON.deserialize(expected))}`,
          );
        text.reset();
        // The export walks no document the writer says may hold an undefined field.
        if (writer.mayHoldUndefined || !text.write(written)) out.textDeclined++;
        else {
          const walked = text.bytes().toString('utf8', 0, text.length);
          const stringified = EJSON.stringify(doc, { relaxed: false });
          if (walked !== stringified)
            expect.fail(
              `${collection} key ${String(item.key)}: the walked text differs from EJSON.stringify's\n` +
                `walked:      ${walked}\nstringified: ${stringified}`,
            );
        }
        docs.push(BSON.deserialize(written, { promoteValues: false }));
        out.written++;
      }
    }
  }
  return out;
}

const SPELLED_DOUBLES = [1, -0, 1e21, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, -1e-7, 2 ** 53];

async function firstPage(db: TargetDatabase, plan: Plan, collection: string) {
  for await (const page of readTargetRows(db, { plan, collection, schema: 'src' }, { batchSize: 100 }))
    return [page];
  return [];
}

describe.skipIf(!url)('RowsToBson, the export writer of BSON straight from rows', () => {
  it('writes every document of the generated marketplace byte for byte as BSON.serialize(toDoc(rows)) writes it, and its text as EJSON.stringify does', async () => {
    const archive = path.join(dir, 'marketplace.archive');
    await writeMarketplaceArchive(archive, { seed: 11, scale: 1500 });
    const { url: target, drop } = await createTestDatabase('rows_to_bson_marketplace');
    const db = await openTarget(target);
    try {
      const plan = await migrateInto(db, archive, 'marketplace');
      const { written, declined, textDeclined } = await compareAll(db, plan);
      expect(written + declined).toBe(1500);
      // The writer is the export's fast path: the marketplace's shapes (jsonb values, `_extra`
      // residue, nested child arrays) all take it, and so does the Extended JSON walker.
      expect(written).toBe(1500);
      expect(textDeclined).toBe(0);
    } finally {
      await db.close();
      await drop();
    }
  });

  const DATASETS = ['sample_supplies.archive.gz', 'sample_mflix', 'sample_analytics/accounts.json'] as const;
  // Missing datasets fail in CI and skip visibly elsewhere (test/support/services.ts).
  it.skipIf(!DATASETS.every((d) => datasetPath(d))).each(DATASETS)(
    'writes every document of the real dataset %s byte for byte as toDoc and BSON.serialize do, and its text as EJSON.stringify does, or declines it',
    async (dataset) => {
      const name = dataset.replace(/\W/g, '_');
      const { url: target, drop } = await createTestDatabase(`rows_to_bson_${name}`);
      const db = await openTarget(target);
      try {
        const plan = await migrateInto(db, datasetPath(dataset)!, name);
        const { written, declined, textDeclined } = await compareAll(db, plan);
        expect(written).toBeGreaterThan(0);
        expect(declined).toBe(0);
        expect(textDeclined).toBe(0);
      } finally {
        await db.close();
        await drop();
      }
    },
  );

  it('writes the edge values toDoc rebuilds (numbers of each width, doubles Extended JSON spells specially, dates, ids, null and absent fields, nested objects, child arrays, string arrays) without dropping a field', async () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({
      _id: ObjectId.createFromTime(1_700_000_000 + i),
      name: `ü-${i} 名前`,
      count: new Int32(i - 20),
      big: Long.fromString(i % 2 === 0 ? '9007199254740993' : '-42'),
      price: Decimal128.fromString(i % 3 === 0 ? '1234.5600' : '-0.000000001'),
      ratio: new Double(i % 4 === 0 ? -0 : i / 7),
      // Extended JSON's special spellings: `1.0`, `-0.0`, `1e+21`, `5e-324`, `NaN`, `Infinity`.
      spelled: new Double(SPELLED_DOUBLES[i % SPELLED_DOUBLES.length]!),
      at: new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 999) + i * 86_400_123),
      flag: i % 2 === 0,
      ...(i % 5 !== 0 && { maybe: i % 5 === 1 ? null : `v${i}` }),
      tags: i % 6 === 0 ? [] : ['a', `b${i}`, 'c'],
      address: { city: `C${i}`, geo: { lat: new Double(1.5 + i), lng: new Double(-2.25) } },
      ...(i % 7 !== 0 && {
        items: Array.from({ length: (i % 4) + 1 }, (_, j) => ({
          sku: `S${i}-${j}`,
          qty: new Int32(j + 1),
          cost: Decimal128.fromString(`${j}.99`),
          parts: j % 2 === 0 ? [{ code: `P${j}`, weight: new Double(j + 0.5) }] : [],
        })),
      }),
    }));
    const file = path.join(dir, 'edge.json');
    await writeFile(file, docs.map((d) => `${EJSON.stringify(d, { relaxed: false })}\n`).join(''));
    const { url: target, drop } = await createTestDatabase('rows_to_bson_edges');
    const db = await openTarget(target);
    try {
      const plan = await migrateInto(db, file, 'edges');
      const { written, declined, textDeclined, docs: rebuilt } = await compareAll(db, plan);
      expect(written + declined).toBe(docs.length);
      expect(textDeclined).toBe(0);
      const byId = new Map(docs.map((d) => [d._id.toHexString(), d]));
      // Every document the writer wrote is the source document, every field of it: a field
      // dropped or added (or a null written as absent) fails here.
      for (const doc of [...rebuilt.values()].flat()) {
        const original = byId.get((doc._id as ObjectId).toHexString());
        expect(original).toBeDefined();
        expect(Object.keys(doc).sort()).toEqual(Object.keys(original!).sort());
        expect(canonicalEqual(doc, original), EJSON.stringify(doc)).toBe(true);
      }
      expect(written).toBe(docs.length);

      // Rows toDoc refuses (an array with a gap in idx) are declined, with nothing written,
      // so the export takes toDoc's path and reports them.
      const writer = RowsToBson.for(plan, 'edge')!;
      const [page] = await firstPage(db, plan, 'edge');
      const withItems = page!.find((item) => (item.rows.get('edge_items')?.length ?? 0) >= 2)!;
      const gap = new Map(withItems.rows);
      gap.set('edge_items', withItems.rows.get('edge_items')!.slice(1));
      writer.reset();
      expect(writer.write(gap)).toBe(false);
      expect(writer.length).toBe(0);
      expect(() => toDoc(plan, 'edge', gap)).toThrow(/out of sequence/);
      expect(writer.write(withItems.rows)).toBe(true);
      expect(writer.mayHoldUndefined).toBe(false);

      // A BSON undefined in `_extra`: toDoc keeps the field, which Extended JSON writes as null
      // and BSON.serialize leaves out, so the writer says so and the export does not walk it.
      const undefinedField = new Map(withItems.rows);
      undefinedField.set('edge', [
        { ...withItems.rows.get('edge')![0]!, _extra: '{"gone":{"$undefined":true}}' },
      ]);
      writer.reset();
      expect(writer.write(undefinedField)).toBe(true);
      expect(writer.mayHoldUndefined).toBe(true);
      expect(EJSON.stringify(toDoc(plan, 'edge', undefinedField), { relaxed: false })).toContain(
        '"gone":null',
      );
    } finally {
      await db.close();
      await drop();
    }
  });
});
