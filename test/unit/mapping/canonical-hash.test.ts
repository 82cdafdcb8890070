import { BSON, Decimal128, type Document, Double, EJSON, Int32, Long } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateNastyDocuments, Random } from '../../../src/generate/index.js';
import {
  canonicalBytes,
  canonicalDiff,
  canonicalEqual,
  canonicalHash,
  numberKey,
} from '../../../src/mapping/canonical/index.js';

const seedArb = fc.integer({ min: 0, max: 0xffffffff });
const docsFor = (seed: number, n: number) =>
  [...generateNastyDocuments(seed, n, { longStringLength: 300 })].map((g) => g.doc);

/**
 * A value equal to `value` under the canonical comparison but built differently: keys
 * reordered, numbers re-typed to another BSON type with the same exact value.
 */
function variant(value: unknown, rng: Random): unknown {
  if (Array.isArray(value)) return value.map((v) => variant(v, rng));
  if (typeof value !== 'object' || value === null) return value;
  const tag = (value as { _bsontype?: string })._bsontype;
  if (tag === 'Int32' || tag === 'Double' || tag === 'Long' || tag === 'Decimal128') {
    return retype(value as Int32 | Double | Long | Decimal128, rng);
  }
  if (tag !== undefined || value instanceof Date) return value;
  const entries = Object.entries(value as Document).map(([k, v]) => [k, variant(v, rng)] as const);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries);
}

/** The same number as another BSON type, when one can hold it exactly. */
function retype(n: Int32 | Double | Long | Decimal128, rng: Random): unknown {
  const key = numberKey(n);
  if (key === 'NaN' || key === 'Infinity' || key === '-Infinity') {
    return rng.chance(0.5) ? Decimal128.fromString(key) : new Double(Number(key));
  }
  const [digits = '', exponent = '0'] = key.replace(/^-/, '').split('e');
  const choices: (() => unknown)[] = [];
  if (digits.length <= 33 && Number(exponent) > -6176) {
    // Decimal128 with an extra trailing zero: same value, other representation.
    choices.push(() =>
      Decimal128.fromString(`${key.startsWith('-') ? '-' : ''}${digits}0E${Number(exponent) - 1}`),
    );
  }
  if (!key.includes('e-')) {
    const integer = BigInt(key.replace(/e(\d+)$/, (_, z: string) => '0'.repeat(Number(z))));
    if (integer >= -(2n ** 63n) && integer < 2n ** 63n) choices.push(() => Long.fromBigInt(integer));
    if (integer >= -(2n ** 31n) && integer < 2n ** 31n) choices.push(() => new Int32(Number(integer)));
  }
  if (numberKey(Number(key)) === key) choices.push(() => new Double(Number(key)));
  return choices.length === 0 ? n : rng.pick(choices)();
}

/** Dotted paths of every leaf (scalars, empty arrays, empty objects). */
function leafPaths(value: unknown, path = '', out: string[] = []): string[] {
  const isContainer =
    Array.isArray(value) ||
    (typeof value === 'object' &&
      value !== null &&
      !(value instanceof Date) &&
      (value as { _bsontype?: string })._bsontype === undefined);
  const keys = isContainer ? Object.keys(value as object) : [];
  if (keys.length === 0) {
    out.push(path);
    return out;
  }
  for (const key of keys) {
    leafPaths((value as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`, out);
  }
  return out;
}

/** A deep copy with the leaf at `index` (in `leafPaths` order) replaced by `replacement`. */
function replaceLeaf(value: unknown, index: number, replacement: unknown): unknown {
  let seen = -1;
  const walk = (v: unknown): unknown => {
    const container =
      Array.isArray(v) ||
      (typeof v === 'object' &&
        v !== null &&
        !(v instanceof Date) &&
        (v as { _bsontype?: string })._bsontype === undefined);
    if (!container || Object.keys(v as object).length === 0) {
      seen++;
      return seen === index ? replacement : v;
    }
    if (Array.isArray(v)) return v.map(walk);
    return Object.fromEntries(Object.entries(v as Document).map(([k, x]) => [k, walk(x)]));
  };
  return walk(value);
}

describe('canonicalHash over generated documents', () => {
  it('hashes equal for a re-typed, re-ordered variant of every document', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const rng = new Random(seed ^ 0x5eed);
        for (const doc of docsFor(seed, 15)) {
          const other = variant(doc, rng);
          expect(canonicalDiff(doc, other)).toEqual([]);
          expect(canonicalHash(other)).toBe(canonicalHash(doc));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('hashes differently, and diffs at exactly that path, when one leaf changes', () => {
    fc.assert(
      fc.property(seedArb, fc.nat(), (seed, pick) => {
        for (const doc of docsFor(seed, 10)) {
          const leaves = leafPaths(doc);
          const index = pick % leaves.length;
          const mutant = replaceLeaf(doc, index, '\u0001mutant');
          expect(canonicalEqual(doc, mutant)).toBe(false);
          expect(canonicalHash(mutant)).not.toBe(canonicalHash(doc));
          expect(canonicalDiff(doc, mutant).map((d) => d.path)).toEqual([leaves[index]]);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('gives distinct documents distinct hashes and equal ones equal hashes (equal iff hash equal)', () => {
    const docs = docsFor(20240601, 1500);
    const byHash = new Map<bigint, Document>();
    for (const doc of docs) {
      const h = canonicalHash(doc);
      const seen = byHash.get(h);
      if (seen === undefined) byHash.set(h, doc);
      else expect(canonicalEqual(seen, doc)).toBe(true);
    }
    // Pairwise on a sample: equality and hash equality agree both ways.
    for (let i = 0; i < 200; i++) {
      for (const j of [i + 1, i + 7, (i * 31) % 200]) {
        const a = docs[i]!;
        const b = docs[j]!;
        expect(canonicalHash(a) === canonicalHash(b)).toBe(canonicalEqual(a, b));
      }
    }
  });

  it('survives BSON and Extended JSON round trips with the same hash', () => {
    for (const doc of docsFor(77, 400)) {
      const bson = BSON.deserialize(BSON.serialize(doc), { promoteValues: false, bsonRegExp: true });
      const ejson = EJSON.parse(EJSON.stringify(doc, { relaxed: false }), { relaxed: false });
      expect(canonicalHash(bson)).toBe(canonicalHash(doc));
      expect(canonicalHash(ejson)).toBe(canonicalHash(doc));
      expect(canonicalBytes(bson).equals(canonicalBytes(doc))).toBe(true);
    }
  });
});
