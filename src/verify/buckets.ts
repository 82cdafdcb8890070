import { CANONICAL_HASH_MASK } from '../mapping/canonical/index.js';

/**
 * Why buckets by a hash of `_id`, not by `_id` ranges: file sources (dumps, exports, JSON)
 * hand documents over in file order and the target streams in primary-key order, so range
 * buckets would need both sides sorted. A bucket chosen by `canonicalHash(_id)` is the same
 * on both sides whatever the order, and the bucket sum (hashes added mod 2^64, plus a
 * count) is order-independent too. Narrowing a mismatching bucket is just looking at more
 * bits of the same hash, down to the full 64 bits: one document.
 */

/** About this many documents per bucket: small enough to re-examine one cheaply. */
export const DOCS_PER_BUCKET = 1000;

/** Never more than 2^16 buckets: 1 MB of sums per side, for up to ~65M documents at 1000 each. */
const MAX_BUCKET_BITS = 16;

/**
 * How many low hash bits pick a bucket for a collection of about `count` documents.
 *
 * @example
 * bucketBits(0)       // 0 (one bucket)
 * bucketBits(5000)    // 3 (8 buckets of ~625)
 */
export function bucketBits(count: number): number {
  let bits = 0;
  while (bits < MAX_BUCKET_BITS && count / 2 ** bits > DOCS_PER_BUCKET) bits++;
  return bits;
}

/**
 * The bucket of a document, from its id hash.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * bucketOf(canonicalHash(doc._id), 3)   // 0..7
 */
export function bucketOf(idHash: bigint, bits: number): number {
  return Number(idHash & ((1n << BigInt(bits)) - 1n));
}

/**
 * Per-bucket hash sums and counts for one side. Memory is two numbers per bucket,
 * whatever the collection's size.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * declare const otherSide: BucketSums;
 * const sums = new BucketSums(3);
 * sums.add(canonicalHash(doc._id), canonicalHash(doc));
 * sums.mismatching(otherSide)   // bucket numbers that differ
 */
export class BucketSums {
  readonly sums: BigUint64Array;
  readonly counts: Float64Array;
  constructor(readonly bits: number) {
    this.sums = new BigUint64Array(2 ** bits);
    this.counts = new Float64Array(2 ** bits);
  }

  add(idHash: bigint, docHash: bigint): void {
    const b = bucketOf(idHash, this.bits);
    // BigUint64Array wraps mod 2^64 on store; the mask keeps the intent explicit.
    this.sums[b] = (this.sums[b]! + docHash) & CANONICAL_HASH_MASK;
    this.counts[b]! += 1;
  }

  /** Buckets whose sum or count differs from `other`'s (same `bits`). */
  mismatching(other: BucketSums): number[] {
    const out: number[] = [];
    for (let b = 0; b < this.sums.length; b++)
      if (this.sums[b] !== other.sums[b] || this.counts[b] !== other.counts[b]) out.push(b);
    return out;
  }

  get size(): number {
    return this.sums.length;
  }
}

/**
 * Group mismatching buckets so each group's documents fit in `maxDocs` per-document entries,
 * which bounds the memory of the narrowing pass (one pass per group).
 *
 * @example
 * bucketGroups([1, 4, 6], [900, 0, 0, 0, 800, 0, 700, 0], 2000)   // [[1, 4], [6]]
 */
export function bucketGroups(
  buckets: readonly number[],
  sizes: ArrayLike<number>,
  maxDocs: number,
): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let docs = 0;
  for (const b of buckets) {
    const n = sizes[b] ?? 0;
    if (current.length > 0 && docs + n > maxDocs) {
      groups.push(current);
      current = [];
      docs = 0;
    }
    current.push(b);
    docs += n;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * The `--level sample` predicate: a document is in the sample when its id hash, mixed with
 * the run's seed, falls under `fraction`. Both sides apply it to the same ids, so the sample
 * is the same set of documents on each, and a different seed picks a different sample.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * const inSample = samplePredicate(0.1, 42);
 * inSample(canonicalHash(doc._id))   // true for about 10% of documents
 */
export function samplePredicate(fraction: number, seed: number): (idHash: bigint) => boolean {
  const limit = BigInt(Math.floor(Math.min(1, Math.max(0, fraction)) * 2 ** 32));
  // The seed is scrambled (murmur3's finalizer) into a 32-bit mask: for any one id, a
  // uniformly random mask makes "in the sample" a coin flip weighted by `fraction`.
  const mix = BigInt(fmix32(seed >>> 0));
  // The high 32 bits: independent of the low bits that choose buckets.
  return (idHash) => ((idHash >> 32n) ^ mix) < limit;
}

function fmix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
