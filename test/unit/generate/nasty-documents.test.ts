import type { Decimal128, Document, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  type GenerateOptions,
  generateNastyDocuments,
  PG_TIMESTAMPTZ_MIN_MS,
} from '../../../src/generate/index.js';
import { canonicalEqual, canonicalHash } from '../../../src/mapping/canonical/index.js';

const SEED = 20240601;
const LONG = 2000;

/** Everything found anywhere in a set of documents, to check the generator covers its list. */
interface Census {
  readonly bsonTypes: Set<string>;
  readonly keys: Set<string>;
  readonly strings: string[];
  readonly longs: bigint[];
  readonly decimals: string[];
  readonly doubles: number[];
  readonly dates: number[];
  maxDepth: number;
  emptyArrays: number;
  emptyObjects: number;
}

function census(docs: readonly Document[]): Census {
  const c: Census = {
    bsonTypes: new Set(),
    keys: new Set(),
    strings: [],
    longs: [],
    decimals: [],
    doubles: [],
    dates: [],
    maxDepth: 0,
    emptyArrays: 0,
    emptyObjects: 0,
  };
  const visit = (value: unknown, depth: number): void => {
    c.maxDepth = Math.max(c.maxDepth, depth);
    if (typeof value === 'string') c.strings.push(value);
    else if (value instanceof Date) c.dates.push(value.getTime());
    else if (Array.isArray(value)) {
      if (value.length === 0) c.emptyArrays++;
      for (const item of value) visit(item, depth + 1);
    } else if (typeof value === 'object' && value !== null) {
      const tag = (value as { _bsontype?: string })._bsontype;
      if (tag !== undefined) {
        c.bsonTypes.add(tag);
        if (tag === 'Long') c.longs.push((value as Long).toBigInt());
        if (tag === 'Decimal128') c.decimals.push((value as Decimal128).toString());
        if (tag === 'Double') c.doubles.push((value as { value: number }).value);
        return;
      }
      const keys = Object.keys(value);
      if (keys.length === 0) c.emptyObjects++;
      for (const key of keys) {
        c.keys.add(key);
        visit((value as Document)[key], depth + 1);
      }
    }
  };
  for (const doc of docs) visit(doc, 0);
  return c;
}

const generate = (n: number, options?: GenerateOptions, seed = SEED) => [
  ...generateNastyDocuments(seed, n, options),
];

describe('generateNastyDocuments', () => {
  it('gives the same documents for the same seed, and others for another seed', () => {
    const a = generate(300);
    const b = generate(300);
    expect(a.map((g) => g.collection)).toEqual(b.map((g) => g.collection));
    expect(a.map((g) => canonicalHash(g.doc))).toEqual(b.map((g) => canonicalHash(g.doc)));
    const c = generate(300, {}, SEED + 1);
    expect(c.filter((g, i) => canonicalEqual(g.doc, a[i]!.doc))).toHaveLength(0);
  });

  it('does not let the count change the first documents, and streams lazily', () => {
    const short = generate(50);
    const long = generate(500).slice(0, 50);
    expect(short.every((g, i) => canonicalEqual(g.doc, long[i]!.doc))).toBe(true);
    const iterator = generateNastyDocuments(SEED, Number.MAX_SAFE_INTEGER)[Symbol.iterator]();
    expect(iterator.next().done).toBe(false); // would never return if it built the list first
  });

  it('covers every kind of nastiness it promises', () => {
    const docs = generate(LONG).map((g) => g.doc);
    const c = census(docs);
    for (const type of [
      'Int32',
      'Double',
      'Long',
      'Decimal128',
      'ObjectId',
      'Binary',
      'BSONRegExp',
      'Timestamp',
    ]) {
      expect(c.bsonTypes, type).toContain(type);
    }
    expect(c.bsonTypes).toContain('MinKey');
    expect(c.bsonTypes).toContain('Code');
    expect(c.maxDepth).toBeGreaterThanOrEqual(8);
    expect(c.emptyArrays).toBeGreaterThan(0);
    expect(c.emptyObjects).toBeGreaterThan(0);
    const keys = [...c.keys];
    expect(keys.some((k) => k.includes('.'))).toBe(true);
    expect(keys.some((k) => k.startsWith('$'))).toBe(true);
    expect(keys.some((k) => k.includes(' '))).toBe(true);
    expect(keys.some((k) => /\p{Extended_Pictographic}/u.test(k))).toBe(true);
    expect(keys.some((k) => /[^\x00-\x7f]/.test(k) && !/\p{Extended_Pictographic}/u.test(k))).toBe(true);
    expect(keys.some((k) => k.length > 63)).toBe(true);
    expect(c.strings.some((s) => s.length >= 10_000)).toBe(true);
    expect(c.strings.some((s) => s.includes('\u0000'))).toBe(true);
    expect(c.strings.some((s) => /\p{Extended_Pictographic}/u.test(s))).toBe(true);
    expect(c.longs.some((n) => n > 2n ** 53n)).toBe(true);
    expect(c.longs.some((n) => n < -(2n ** 53n))).toBe(true);
    const significant = (d: string) =>
      d.replace(/^-/, '').replace(/E.*$/, '').replace('.', '').replace(/^0+/, '');
    expect(c.decimals.some((d) => significant(d).length === 34)).toBe(true);
    expect(c.decimals.some((d) => /E-6\d{3}$/.test(d))).toBe(true);
    expect(c.decimals.some((d) => /E\+6\d{3}$/.test(d))).toBe(true);
    expect(c.doubles.some(Number.isNaN)).toBe(true);
    expect(c.doubles).toContain(Number.POSITIVE_INFINITY);
    expect(c.dates.some((t) => t < PG_TIMESTAMPTZ_MIN_MS)).toBe(true);
    expect(c.dates).toContain(PG_TIMESTAMPTZ_MIN_MS);
  });

  it('varies the numeric type of one field across documents, and mixes missing with null', () => {
    const users = generate(LONG, { noise: 0 }).filter((g) => g.collection === 'users');
    const ageTypes = new Set(
      users.map((g) => (g.doc.age as { _bsontype?: string } | null | undefined)?._bsontype),
    );
    expect(ageTypes).toEqual(new Set(['Int32', 'Double', 'Long', 'Decimal128', undefined]));
    expect(users.some((g) => !('email' in g.doc))).toBe(true);
    expect(users.some((g) => g.doc.email === null)).toBe(true);
    expect(users.some((g) => typeof g.doc.email === 'string')).toBe(true);
  });

  it('links orders to users that were generated before them', () => {
    const all = generate(LONG);
    const userIds = new Set<string>();
    let linked = 0;
    for (const { collection, doc } of all) {
      if (collection === 'users') userIds.add(String(doc._id));
      const ref = doc.userId as { _bsontype?: string } | undefined;
      if (collection === 'orders' && ref?._bsontype === 'ObjectId' && userIds.has(String(ref))) linked++;
    }
    const orders = all.filter((g) => g.collection === 'orders').length;
    expect(linked / orders).toBeGreaterThan(0.8);
  });

  it('keeps collection shapes stable enough to infer, with sub-document arrays of varying shape', () => {
    const all = generate(LONG, { noise: 0 });
    const expected: Record<string, string[]> = {
      users: [
        '_id',
        'name',
        'email',
        'age',
        'createdAt',
        'profile',
        'tags',
        'scores',
        'settings',
        'flags',
        'avatar',
        'deep',
        'empty',
      ],
      orders: [
        '_id',
        'userId',
        'items',
        'total',
        'currency',
        'status',
        'placedAt',
        'shippedAt',
        'counters',
        'note',
      ],
      events: [
        '_id',
        'ts',
        'at',
        'kind',
        'orderId',
        'refs',
        'match',
        'seq',
        'payload',
        'raw',
        'deep',
        'legacy',
      ],
    };
    for (const { collection, doc } of all) {
      for (const key of Object.keys(doc)) expect(expected[collection], `${collection}.${key}`).toContain(key);
    }
    const itemShapes = new Set(
      all
        .flatMap((g) => (g.collection === 'orders' ? (g.doc.items as Document[]) : []))
        .map((i) => Object.keys(i).sort().join()),
    );
    expect(itemShapes.size).toBeGreaterThan(3);
    const noisy = generate(LONG, { noise: 0.5 }).filter((g) =>
      Object.keys(g.doc).some((k) => !expected[g.collection]!.includes(k)),
    );
    expect(noisy.length).toBeGreaterThan(0);
  });

  it('leaves out unloadable values when asked: no NUL strings, no dates before PostgreSQL’s range', () => {
    const c = census(generate(LONG, { unloadable: false }).map((g) => g.doc));
    expect(c.strings.some((s) => s.includes('\u0000'))).toBe(false);
    expect(c.dates.some((t) => t < PG_TIMESTAMPTZ_MIN_MS)).toBe(false);
  });

  it('emits only the collections asked for', () => {
    const only = generate(200, { collections: ['events'] });
    expect(new Set(only.map((g) => g.collection))).toEqual(new Set(['events']));
    expect(generate(10, { collections: [] })).toEqual([]);
  });
});
