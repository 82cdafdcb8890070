import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { EJSON } from 'bson';
import { beforeAll, describe, expect, it } from 'vitest';
import { type InferenceSnapshot, InferenceStats } from '../../src/infer/index.js';
import { datasetPath } from '../support/services.js';
import { fieldOf } from '../unit/infer/helpers.js';

// Parsed here, not with Ferry's source readers: this file checks inference on real data, and
// must not move when the readers do.
async function loadInto(stats: InferenceStats, collection: string, file: string): Promise<void> {
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines)
    if (line.trim()) stats.add(collection, EJSON.parse(line, { relaxed: false }));
}

const theaters = datasetPath('sample_mflix/theaters.json');
const accounts = datasetPath('sample_analytics/accounts.json');

describe.runIf(theaters && accounts)('inference statistics on the real sample datasets', () => {
  let snapshot: InferenceSnapshot;

  beforeAll(async () => {
    const stats = new InferenceStats();
    await loadInto(stats, 'theaters', theaters!);
    await loadInto(stats, 'accounts', accounts!);
    snapshot = stats.snapshot();
  });

  it('counts every document and every distinct _id of both exports', () => {
    expect(snapshot.collections.map((c) => [c.name, c.documents, c.ids])).toEqual([
      ['accounts', 1746, { distinct: 1746, exact: true }],
      ['theaters', 1564, { distinct: 1564, exact: true }],
    ]);
  });

  it('sees theaters.location.geo.coordinates as an array of exactly two doubles', () => {
    const coordinates = fieldOf(snapshot, 'theaters', 'location.geo.coordinates');
    expect(coordinates.presence).toBe(1);
    expect(coordinates.arrays).toMatchObject({ minLength: 2, maxLength: 2, avgLength: 2, empty: 0 });
    expect(coordinates.arrays?.elementTypes).toEqual({ double: 3128 });
    const values = fieldOf(snapshot, 'theaters', 'location.geo.coordinates.[]');
    expect(values.numbers).toMatchObject({ nonIntegral: 3128, nonFinite: 0, fitsInt64: false });
    expect(fieldOf(snapshot, 'theaters', 'theaterId').types).toEqual({ int: 1564 });
    expect(fieldOf(snapshot, 'theaters', 'location.geo.type').strings).toMatchObject({
      minLength: 5,
      maxLength: 5,
    });
  });

  it('keeps theaters.location.address a struct of stable fields, not a map', () => {
    const address = fieldOf(snapshot, 'theaters', 'location.address');
    expect(address.objects?.map.isMap).toBe(false);
    expect(address.objects?.map.evidence.keyShapes).toEqual({ fieldName: expect.any(Number) });
    expect(fieldOf(snapshot, 'theaters', 'location.address.city').presence).toBe(1);
  });

  it('sees accounts.products as an array of strings and limit as an int', () => {
    const products = fieldOf(snapshot, 'accounts', 'products');
    expect(products.types).toEqual({ array: 1746 });
    expect(Object.keys(products.arrays?.elementTypes ?? {})).toEqual(['string']);
    expect(products.arrays?.minLength).toBeGreaterThanOrEqual(1);
    const limit = fieldOf(snapshot, 'accounts', 'limit');
    expect(limit.types).toEqual({ int: 1746 });
    expect(limit.numbers).toMatchObject({ fitsInt32: true, nonIntegral: 0 });
    expect(fieldOf(snapshot, 'accounts', 'account_id').numbers?.fitsInt32).toBe(true);
  });

  it('finds no reference between two unrelated collections', () => {
    expect(snapshot.references).toEqual([]);
  });

  it('produces the same snapshot as a summary that stays stable', () => {
    const summary = snapshot.collections.map((c) => ({
      name: c.name,
      fields: c.fields.map((f) => `${f.name}: ${Object.keys(f.types).join('|')} ${f.presence}`),
    }));
    expect(summary).toMatchInlineSnapshot(`
      [
        {
          "fields": [
            "_id: objectId 1",
            "account_id: int 1",
            "limit: int 1",
            "products: array 1",
            "products.[]: string 1",
          ],
          "name": "accounts",
        },
        {
          "fields": [
            "_id: objectId 1",
            "location: object 1",
            "location.address: object 1",
            "location.address.city: string 1",
            "location.address.state: string 1",
            "location.address.street1: string 1",
            "location.address.street2: string|null 0.3555",
            "location.address.zipcode: string 1",
            "location.geo: object 1",
            "location.geo.coordinates: array 1",
            "location.geo.coordinates.[]: double 1",
            "location.geo.type: string 1",
            "theaterId: int 1",
          ],
          "name": "theaters",
        },
      ]
    `);
  });
});
