/**
 * A small seeded PRNG: xoshiro128** (Blackman and Vigna), seeded through splitmix32.
 *
 * Hand-written rather than a library on purpose: the generated documents are test fixtures
 * named by their seed ("FERRY_SEED=1234 reproduces it"), so the sequence must never change
 * under a dependency upgrade; fast-check is a dev dependency only (and `ferry demo` may use
 * this at runtime); and the whole algorithm is a dozen lines with published test vectors.
 * Not for cryptography.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @example
   * const rng = new Random(42);
   * rng.int(1, 6); // the same die roll for seed 42, on every machine and every run
   */
  constructor(seed: number) {
    let state = seed >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // xoshiro's only bad state is all zeros; splitmix32 cannot give four zeros, but be explicit.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A generator at an exact xoshiro128** state (for checking against the reference vectors). */
  static fromState(a: number, b: number, c: number, d: number): Random {
    const rng = new Random(0);
    rng.a = a >>> 0;
    rng.b = b >>> 0;
    rng.c = c >>> 0;
    rng.d = d >>> 0;
    return rng;
  }

  /** A uniform unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness (plenty for choosing test values). */
  float(): number {
    return this.uint32() / 2 ** 32;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined && items.length === 0) throw new RangeError('pick from an empty list');
    return item as T;
  }

  /** A uniform signed 64-bit integer. */
  int64(): bigint {
    return BigInt.asIntN(64, (BigInt(this.uint32()) << 32n) | BigInt(this.uint32()));
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
