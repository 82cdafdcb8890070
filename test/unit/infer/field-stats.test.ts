import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { InferenceStats } from '../../../src/infer/index.js';
import { fieldOf } from './helpers.js';

function collect(docs: readonly Record<string, unknown>[], collection = 'c'): InferenceStats {
  const stats = new InferenceStats();
  for (const doc of docs) stats.add(collection, doc);
  return stats;
}

describe('field statistics', () => {
  it('counts every BSON type seen in one field, including mixed types', () => {
    const snapshot = collect([
      { v: new Int32(1) },
      { v: new Int32(2) },
      { v: Long.fromString('9007199254740993') },
      { v: new Double(1.5) },
      { v: Decimal128.fromString('2.50') },
      { v: 'text' },
      { v: null },
      { v: true },
      { v: new Date(0) },
      { v: new ObjectId() },
      { v: new Binary(new Uint8Array(16), 4) },
      { v: new Timestamp({ t: 1, i: 1 }) },
      { v: /a/i },
      { v: new MinKey() },
      { v: new MaxKey() },
      { v: [] },
      { v: {} },
      {},
    ]).snapshot();
    const v = fieldOf(snapshot, 'c', 'v');
    expect(v.types).toEqual({
      objectId: 1,
      string: 1,
      int: 2,
      long: 1,
      double: 1,
      decimal: 1,
      bool: 1,
      date: 1,
      null: 1,
      object: 1,
      array: 1,
      binData: 1,
      timestamp: 1,
      regex: 1,
      minKey: 1,
      maxKey: 1,
    });
    expect(v.nulls).toBe(1);
    expect(v.parentCount).toBe(18);
    expect(v.present).toBe(17);
    expect(v.binary).toEqual({ count: 1, subtypes: { '4': 1 }, minLength: 16, maxLength: 16 });
    // Long beyond 2^53 keeps its exact digits; the range spans every numeric type.
    expect(v.numbers?.max).toBe('9007199254740993');
    expect(v.numbers?.min).toBe('1');
    expect(v.numbers?.fitsInt32).toBe(false);
    expect(v.numbers?.nonIntegral).toBe(2);
  });

  it('measures presence exactly for nested paths and array elements', () => {
    const snapshot = collect([
      { a: { b: new Int32(1) }, items: [{ price: new Int32(1) }, { price: null }, { qty: new Int32(1) }] },
      { a: { c: new Int32(1) }, items: [] },
      { a: null, items: [{ price: new Int32(3) }] },
      { items: ['loose', { price: new Int32(2) }] },
    ]).snapshot();
    const b = fieldOf(snapshot, 'c', 'a.b');
    // Parents are the 2 objects at `a`, not the 4 documents: a null `a` cannot hold `b`.
    expect([b.parentCount, b.present, b.presence]).toEqual([2, 1, 0.5]);
    const a = fieldOf(snapshot, 'c', 'a');
    expect([a.parentCount, a.present, a.nulls]).toEqual([4, 3, 1]);
    const elements = fieldOf(snapshot, 'c', 'items.[]');
    expect([elements.parentCount, elements.present, elements.occurrences]).toEqual([4, 3, 6]);
    expect(elements.types).toEqual({ string: 1, object: 5 });
    const price = fieldOf(snapshot, 'c', 'items.[].price');
    expect([price.parentCount, price.present, price.nulls, price.presence]).toEqual([5, 4, 1, 0.8]);
    const items = fieldOf(snapshot, 'c', 'items');
    expect(items.arrays).toEqual({
      count: 4,
      empty: 1,
      minLength: 0,
      maxLength: 3,
      avgLength: 1.5,
      elementTypes: { string: 1, object: 5 },
    });
  });

  it('reports string lengths in code points and flags NUL and broken surrogates', () => {
    const snapshot = collect([{ s: 'ab' }, { s: '😀😀😀' }, { s: 'a\u0000b' }, { s: 'x\uD800' }]).snapshot();
    expect(fieldOf(snapshot, 'c', 's').strings).toEqual({
      count: 4,
      minLength: 2,
      maxLength: 3,
      maxBytes: 12,
      withNul: 1,
      malformed: 1,
      objectIdHex: 0,
      uuid: 0,
    });
  });

  it('tells whether integers fit int32 and int64 and how many digits decimals and doubles need', () => {
    const snapshot = collect([
      {
        i: new Int32(-5),
        l: Long.fromString('3000000000'),
        d: new Double(44.85466),
        m: Decimal128.fromString('12345.6789'),
      },
      {
        i: new Int32(7),
        l: Long.fromString('-2'),
        d: new Double(-93.24565),
        m: Decimal128.fromString('0.10'),
      },
      { d: new Double(Number.NaN), m: Decimal128.fromString('1E+20') },
    ]).snapshot();
    const i = fieldOf(snapshot, 'c', 'i').numbers;
    expect([i?.min, i?.max, i?.fitsInt32, i?.fitsInt64]).toEqual(['-5', '7', true, true]);
    const l = fieldOf(snapshot, 'c', 'l').numbers;
    expect([l?.min, l?.max, l?.fitsInt32, l?.fitsInt64]).toEqual(['-2', '3000000000', false, true]);
    const d = fieldOf(snapshot, 'c', 'd').numbers;
    expect(d).toMatchObject({ min: '-93.24565', max: '44.85466', nonFinite: 1, fitsInt64: false });
    expect(d?.double).toEqual({ maxPrecision: 7, maxScale: 5 });
    const m = fieldOf(snapshot, 'c', 'm').numbers;
    expect(m).toMatchObject({ min: '0.10', max: '100000000000000000000', fitsInt64: false });
    // 12345.6789 needs numeric(9,4); 1E+20 needs 21 integer digits.
    expect(m?.decimal).toEqual({ maxPrecision: 21, maxScale: 4 });
  });

  it('reports the date range and counts dates PostgreSQL cannot store', () => {
    const snapshot = collect([
      { at: new Date('2024-01-03T00:00:00Z') },
      { at: new Date('1999-12-31T23:59:59Z') },
      { at: new Date(Date.UTC(-5000, 0, 1)) },
      { at: new Date(Number.NaN) },
    ]).snapshot();
    expect(fieldOf(snapshot, 'c', 'at').dates).toEqual({
      count: 4,
      min: '-005000-01-01T00:00:00.000Z',
      max: '2024-01-03T00:00:00.000Z',
      outsidePostgres: 1,
      invalid: 1,
    });
  });

  it('lists paths parent-first in a deterministic order whatever the insertion order', () => {
    const one = collect([{ b: 1, a: { z: 1, y: [1] } }, { c: 'x' }]).snapshot();
    const two = collect([{ c: 'x' }, { a: { y: [1], z: 1 }, b: 1 }]).snapshot();
    const names = one.collections[0]?.fields.map((f) => f.name);
    expect(names).toEqual(['a', 'a.y', 'a.y.[]', 'a.z', 'b', 'c']);
    expect(JSON.stringify(one)).toBe(JSON.stringify(two));
  });
});
