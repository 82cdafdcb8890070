import { Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { InferenceStats } from '../../../src/infer/index.js';
import { collectionOf, fieldOf } from './helpers.js';

function collect(docs: readonly Record<string, unknown>[], stats = new InferenceStats()): InferenceStats {
  for (const doc of docs) stats.add('c', doc);
  return stats;
}

describe('map-like objects', () => {
  it('treats an object keyed by ObjectId hex as a map and merges its values under *', () => {
    const a = new ObjectId().toHexString();
    const b = new ObjectId().toHexString();
    const c = new ObjectId().toHexString();
    const snapshot = collect([
      { votes: { [a]: { score: new Int32(1), at: new Date(0) }, [b]: { score: new Int32(5) } } },
      { votes: { [c]: { score: new Int32(3), at: new Date(1) } } },
    ]).snapshot();
    const votes = fieldOf(snapshot, 'c', 'votes');
    expect(votes.objects?.map.isMap).toBe(true);
    expect(votes.objects?.map.reasons).toEqual(['dataShapedKeys']);
    expect(votes.objects?.map.evidence.keyShapes).toEqual({ objectIdHex: 3 });
    const names = collectionOf(snapshot, 'c').fields.map((f) => f.name);
    expect(names).toEqual(['votes', 'votes.*', 'votes.*.at', 'votes.*.score']);
    // Three entries in two non-empty maps; `at` is in two of the three entry objects.
    const entries = fieldOf(snapshot, 'c', 'votes.*');
    expect([entries.parentCount, entries.present, entries.occurrences]).toEqual([2, 2, 3]);
    const at = fieldOf(snapshot, 'c', 'votes.*.at');
    expect([at.parentCount, at.present]).toEqual([3, 2]);
    expect(fieldOf(snapshot, 'c', 'votes.*.score').numbers).toMatchObject({ min: '1', max: '5' });
  });

  it('treats an object keyed by ISO dates as a map', () => {
    const snapshot = collect([
      { daily: { '2024-01-03': new Int32(4), '2024-01-04': new Int32(9) } },
      { daily: { '2024-01-05': new Int32(1) } },
    ]).snapshot();
    const daily = fieldOf(snapshot, 'c', 'daily');
    expect(daily.objects?.map).toMatchObject({ isMap: true, reasons: ['dataShapedKeys'] });
    expect(fieldOf(snapshot, 'c', 'daily.*').types).toEqual({ int: 3 });
  });

  it('treats an object keyed by currency codes as a map', () => {
    const snapshot = collect([
      { prices: { USD: new Int32(10), EUR: new Int32(9) } },
      { prices: { USD: new Int32(12), GBP: new Int32(8) } },
    ]).snapshot();
    const prices = fieldOf(snapshot, 'c', 'prices');
    expect(prices.objects?.map.isMap).toBe(true);
    expect(prices.objects?.map.evidence).toMatchObject({
      distinctKeys: 3,
      keyShapes: { currencyCode: 3 },
      dataKeyShare: 1,
      exampleKeys: ['EUR', 'GBP', 'USD'],
    });
  });

  it('keeps an object with stable field names as a struct with named paths', () => {
    const docs = Array.from({ length: 50 }, (_, i) => ({
      address: { street: `s${i}`, city: 'x', zip: `${10000 + i}`, ...(i % 2 ? { unit: 'a' } : {}) },
    }));
    const snapshot = collect(docs).snapshot();
    const address = fieldOf(snapshot, 'c', 'address');
    expect(address.objects?.map).toMatchObject({ isMap: false, reasons: [] });
    expect(address.objects?.map.evidence.keyPresence).toBe(0.875);
    expect(fieldOf(snapshot, 'c', 'address.unit').presence).toBe(0.5);
  });

  it('does not call a single constant currency-like key a map', () => {
    const snapshot = collect([{ fx: { EUR: 1.1 } }, { fx: { EUR: 1.2 } }]).snapshot();
    expect(fieldOf(snapshot, 'c', 'fx').objects?.map.isMap).toBe(false);
  });

  it('detects a map whose keys are free-form but never shared across documents', () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({
      tags: { [`user-${i}`]: true, [`team-${i}`]: true },
    }));
    const tags = fieldOf(collect(docs).snapshot(), 'c', 'tags');
    expect(tags.objects?.map).toMatchObject({ isMap: true, reasons: ['keysNotShared'] });
    expect(tags.objects?.map.evidence).toMatchObject({
      distinctKeys: 80,
      meanKeysPerObject: 2,
      keyPresence: 0.025,
    });
  });
});

describe('bounded memory for object keys', () => {
  it('collapses an object into * once its distinct keys pass the cap, and says so', () => {
    const stats = new InferenceStats({ limits: { maxKeysPerObject: 16 } });
    const docs = Array.from({ length: 200 }, (_, i) => ({
      byUser: { [`k${i}`]: new Int32(i), [`j${i}`]: null },
    }));
    const snapshot = collect(docs, stats).snapshot();
    const byUser = fieldOf(snapshot, 'c', 'byUser');
    expect(byUser.objects?.map.isMap).toBe(true);
    expect(byUser.objects?.map.reasons).toContain('keyCapExceeded');
    // Past the cap the distinct count is an estimate from a hash sample: 400 ± a few dozen.
    expect(byUser.objects?.map.evidence.distinctKeysExact).toBe(false);
    expect(byUser.objects?.map.evidence.distinctKeys).toBeGreaterThan(250);
    expect(byUser.objects?.map.evidence.distinctKeys).toBeLessThan(600);
    // No value was lost by collapsing: entries before and after the cap are all under *.
    const values = fieldOf(snapshot, 'c', 'byUser.*');
    expect(values.types).toEqual({ int: 200, null: 200 });
    expect(values.numbers).toMatchObject({ min: '0', max: '199' });
    expect(collectionOf(snapshot, 'c').fields.map((f) => f.name)).toEqual(['byUser', 'byUser.*']);
  });

  it('keeps the number of tracked paths within the budget by collapsing the widest parent', () => {
    const stats = new InferenceStats({ limits: { maxPathsPerCollection: 30 } });
    const docs = Array.from({ length: 100 }, (_, i) => ({
      _id: new Int32(i),
      meta: { [`f${i}`]: { n: new Int32(i) } },
    }));
    const snapshot = collect(docs, stats).snapshot();
    const c = collectionOf(snapshot, 'c');
    expect(c.fields.length).toBeLessThanOrEqual(30);
    const meta = fieldOf(snapshot, 'c', 'meta');
    expect(meta.objects?.map.reasons).toContain('pathBudgetExceeded');
    expect(fieldOf(snapshot, 'c', 'meta.*.n').occurrences).toBe(100);
    expect(fieldOf(snapshot, 'c', '_id').occurrences).toBe(100);
  });

  it('turns documents whose top-level keys are dates into a document map but keeps _id', () => {
    const docs = [
      { _id: 'a', '2024-01-01': new Int32(1), '2024-01-02': new Int32(2) },
      { _id: 'b', '2024-01-03': new Int32(3) },
    ];
    const snapshot = collect(docs).snapshot();
    const c = collectionOf(snapshot, 'c');
    expect(c.documentMap?.reasons).toEqual(['dataShapedKeys']);
    expect(c.fields.map((f) => f.name)).toEqual(['*', '_id']);
    expect(fieldOf(snapshot, 'c', '*')).toMatchObject({ parentCount: 2, present: 2, occurrences: 3 });
  });
});
