/**
 * Bounded-memory sets of values, by hash. Used for reference detection (path values against
 * each collection's `_id`s) and for counting an object's distinct keys.
 *
 * How it stays bounded: a sketch stores 53-bit hashes, exactly, until it holds `capacity` of
 * them. Past that it keeps only hashes below a threshold that halves each time the set
 * overflows again (threshold sampling, "level" = number of halvings). Every sketch uses the
 * same hash function and the same thresholds, so two sketches are *coordinated*: a value
 * below the lower of the two thresholds is in both stored sets if it is in both inputs.
 * Containment |A ∩ B| / |A| is then estimated on that common uniform sample.
 *
 * Error bounds, stated for the report:
 * - false positives come only from 53-bit hash collisions: a value absent from B matches with
 *   probability at most |B stored| / 2^53 (below 1.2e-11 for 100 000 stored ids);
 * - once sampling, the containment estimate has standard error at most 0.5 / sqrt(sampled).
 */
export const HASH_SPACE = 2 ** 53;

/**
 * cyrb53 (public domain, bryc): a fast, well-mixed 53-bit string hash. Not cryptographic;
 * it only has to spread ids uniformly so threshold sampling is a fair sample.
 *
 * @example
 * hash53('oid:59a47286cfa9a3a73e51e72c') === hash53('oid:59a47286cfa9a3a73e51e72c'); // true
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  return finishHash53(h1, h2);
}

/**
 * cyrb53's final mixing of its two running halves into the 53-bit hash, for a caller that
 * feeds the characters itself (hashing an ObjectId's hex form from its bytes, id-hash.ts).
 *
 * @example
 * finishHash53(0xdeadbeef, 0x41c6ce57) === hash53('');   // true
 */
export function finishHash53(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** What `add` did: stored a new hash, saw it before, or skipped it (above the threshold). */
export type SketchAdd = 'added' | 'present' | 'skipped';

/** How much of one sketch's values were found in another. */
export interface Containment {
  /** Values of the source (below the common threshold) found in the target. */
  readonly matched: number;
  /** Values of the source compared (below the common threshold). */
  readonly sampled: number;
  /** matched / sampled, 0 when nothing was compared. */
  readonly fraction: number;
  /** True when neither side was sampling, so the fraction is exact (up to hash collisions). */
  readonly exact: boolean;
}

/**
 * A coordinated threshold-sampling set of 53-bit hashes, with at most `capacity` entries.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * declare const refs: HashSketch;
 * const ids = new HashSketch(100_000);
 * ids.add(hash53('oid:' + doc._id.toHexString()));
 * refs.containmentIn(ids).fraction; // share of `refs` values that are ids
 */
export class HashSketch {
  readonly capacity: number;
  #level = 0;
  readonly #hashes = new Set<number>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
  }

  /** Number of halvings of the threshold so far; 0 means the set is exact. */
  get level(): number {
    return this.#level;
  }

  /** Hashes at or above this are not stored. */
  get limit(): number {
    return HASH_SPACE / 2 ** this.#level;
  }

  get exact(): boolean {
    return this.#level === 0;
  }

  /** Hashes stored (≤ capacity). */
  get size(): number {
    return this.#hashes.size;
  }

  /** Distinct values added: exact while `exact`, else the standard size × 2^level estimate. */
  get distinct(): number {
    return this.#hashes.size * 2 ** this.#level;
  }

  add(hash: number): SketchAdd {
    if (hash >= this.limit) return 'skipped';
    if (this.#hashes.has(hash)) return 'present';
    this.#hashes.add(hash);
    if (this.#hashes.size > this.capacity) this.#shrink();
    // The value may have been dropped by the shrink; it was still new to this sketch.
    return 'added';
  }

  has(hash: number): boolean {
    return this.#hashes.has(hash);
  }

  /** Add everything another sketch holds (its threshold carries over if lower). */
  merge(other: HashSketch): void {
    if (other.#level > this.#level) {
      this.#level = other.#level;
      this.#filter();
    }
    for (const hash of other.#hashes) this.add(hash);
  }

  /**
   * Share of this sketch's values that are in `target`, measured on the common sample.
   *
   * @example
   * declare const authorIds: HashSketch;
   * declare const usersIds: HashSketch;
   * authorIds.containmentIn(usersIds); // { matched: 97, sampled: 100, fraction: 0.97, exact: true }
   */
  containmentIn(target: HashSketch): Containment {
    const limit = Math.min(this.limit, target.limit);
    let matched = 0;
    let sampled = 0;
    for (const hash of this.#hashes) {
      if (hash >= limit) continue;
      sampled++;
      if (target.#hashes.has(hash)) matched++;
    }
    return {
      matched,
      sampled,
      fraction: sampled === 0 ? 0 : matched / sampled,
      exact: this.exact && target.exact,
    };
  }

  #shrink(): void {
    while (this.#hashes.size > this.capacity) {
      this.#level++;
      this.#filter();
    }
  }

  #filter(): void {
    const limit = this.limit;
    for (const hash of this.#hashes) if (hash >= limit) this.#hashes.delete(hash);
  }
}
