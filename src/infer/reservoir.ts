/**
 * A deterministic uniform sample of N items from a stream of unknown length (Algorithm R,
 * Vitter 1985) driven by a seeded PRNG, so the same input and seed give the same sample,
 * and a report can be reproduced.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const docs: Document[];
 * const r = new Reservoir<Document>(1000, 42);
 * for (const doc of docs) r.offer(doc);
 * r.items(); // ≤ 1000 documents, in input order
 */
export class Reservoir<T> {
  readonly size: number;
  #seen = 0;
  readonly #slots: { index: number; item: T }[] = [];
  readonly #random: () => number;

  constructor(size: number, seed: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('sample size must be a positive integer');
    this.size = size;
    this.#random = mulberry32(seed);
  }

  /** Items offered so far. */
  get seen(): number {
    return this.#seen;
  }

  offer(item: T): void {
    const index = this.#seen++;
    if (this.#slots.length < this.size) {
      this.#slots.push({ index, item });
      return;
    }
    const j = Math.floor(this.#random() * (index + 1));
    if (j < this.size) this.#slots[j] = { index, item };
  }

  /** The sample in input order, so statistics that depend on order (first keys seen) stay natural. */
  items(): T[] {
    return [...this.#slots].sort((a, b) => a.index - b.index).map((slot) => slot.item);
  }
}

/**
 * mulberry32: a tiny 32-bit PRNG, plenty for choosing sample slots, and seedable (unlike
 * Math.random).
 *
 * @example
 * const next = mulberry32(1); next(); // 0.6270739405881613, every time
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
