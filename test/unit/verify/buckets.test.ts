import { ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { canonicalHash } from '../../../src/mapping/canonical/index.js';
import { BucketSums, bucketBits, bucketGroups, samplePredicate } from '../../../src/verify/buckets.js';

const ids = Array.from({ length: 4000 }, (_, i) =>
  canonicalHash(new ObjectId(i.toString(16).padStart(24, '0'))),
);

describe('hash buckets', () => {
  it('aim at about a thousand documents per bucket, in powers of two', () => {
    expect(bucketBits(0)).toBe(0);
    expect(bucketBits(1000)).toBe(0);
    expect(bucketBits(1001)).toBe(1);
    expect(bucketBits(5000)).toBe(3);
    expect(bucketBits(1e12)).toBe(16);
  });

  it('give the same sums whatever order the documents are added in', () => {
    const a = new BucketSums(2);
    const b = new BucketSums(2);
    for (const [i, h] of ids.entries()) a.add(h, BigInt(i) * 7919n);
    for (const [i, h] of [...ids.entries()].reverse()) b.add(h, BigInt(i) * 7919n);
    expect(a.mismatching(b)).toEqual([]);
  });

  it('flag exactly the bucket of a changed document, and one whose count differs', () => {
    const a = new BucketSums(2);
    const b = new BucketSums(2);
    for (const h of ids) {
      a.add(h, h);
      if (h !== ids[10]) b.add(h, h === ids[5] ? h + 1n : h);
    }
    const expected = [...new Set([Number(ids[5]! & 3n), Number(ids[10]! & 3n)])].sort();
    expect(a.mismatching(b)).toEqual(expected);
  });

  it('group mismatching buckets so no group tracks more than the limit', () => {
    expect(bucketGroups([1, 4, 6], [900, 900, 0, 0, 800, 0, 700], 2000)).toEqual([[1, 4], [6]]);
    expect(bucketGroups([0], [5000], 10)).toEqual([[0]]);
  });
});

describe('the sample predicate', () => {
  it('takes about the given fraction of documents', () => {
    const taken = ids.filter(samplePredicate(0.25, 7)).length;
    expect(taken).toBeGreaterThan(850);
    expect(taken).toBeLessThan(1150);
  });

  it('picks a different sample for a different seed and the same one for the same seed', () => {
    const one = ids.filter(samplePredicate(0.1, 1));
    expect(ids.filter(samplePredicate(0.1, 1))).toEqual(one);
    expect(ids.filter(samplePredicate(0.1, 2))).not.toEqual(one);
  });

  it('takes everything at fraction 1 and nothing at 0', () => {
    expect(ids.every(samplePredicate(1, 3))).toBe(true);
    expect(ids.some(samplePredicate(0, 3))).toBe(false);
  });
});
