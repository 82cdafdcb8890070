/**
 * Latency histograms with fixed bucket bounds, so counts kept by many app instances (shadow
 * reads, write paths) can be added in SQL (`ferry.shadow_reads.primary_ms`, a `bigint[]` of
 * counts per bucket) and a percentile read over any window without keeping every sample.
 *
 * The bounds grow by 2^(1/4) from 0.25 ms to about 16 s, four to a doubling: a percentile read
 * back is the upper bound of its bucket, so it overstates by at most 2^(1/4) ≈ 1.19 ×, and never
 * understates. That is the right side to err on for a gate such as "PostgreSQL's p95 ≤ 1.5 ×
 * MongoDB's", where both sides are measured in the same buckets: the ratio read back is a power
 * of 2^(1/4) (1, 1.19, 1.41, 1.68, 2, …), so a true ratio up to √2 always passes 1.5 and one above
 * 2^(3/4) ≈ 1.68 never does. With bounds that doubled (Ferry before state step 20) it read 2 as
 * soon as the two p95s straddled one bound, however close they were. Interpolating inside a
 * bucket was rejected: it misjudges samples bunched at one end of the bucket, and can understate.
 *
 * Every fourth bound is a bound of that older, doubling layout, so state step 20 moved the counts
 * kept in it without changing any percentile read back (src/target/ferry-state.ts).
 */

/**
 * The upper bound (ms, inclusive) of each bucket; a last, open bucket holds what is above the
 * last bound.
 *
 * @example
 * LATENCY_BOUNDS_MS[0]        // 0.25
 * LATENCY_BOUNDS_MS[4]        // 0.5
 * LATENCY_BOUNDS_MS.length    // 65 (the last is 16384), so a histogram has 66 counts
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(
  // i / 4 is a whole number at every fourth bound, so those are exact powers of two.
  Array.from({ length: 65 }, (_, i) => 0.25 * 2 ** (i / 4)),
);

/**
 * Counts per bucket: `LATENCY_BOUNDS_MS.length + 1` of them, the last for what is above the
 * last bound.
 *
 * @example
 * const h: LatencyHistogram = emptyHistogram();
 */
export type LatencyHistogram = readonly number[];

/**
 * A histogram with every count at zero.
 *
 * @example
 * emptyHistogram().every((n) => n === 0)   // true
 */
export function emptyHistogram(): LatencyHistogram {
  return new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
}

/**
 * The index of the bucket a latency falls in.
 *
 * @example
 * bucketOf(0.1)     // 0
 * bucketOf(2)       // 12: (1.68, 2]
 * bucketOf(2.1)     // 13: (2, 2.38]
 * bucketOf(1e9)     // 65: above every bound
 */
export function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/**
 * The histogram with one more sample.
 *
 * @example
 * const h = record(emptyHistogram(), 2);
 * h[12]   // 1
 */
export function record(histogram: LatencyHistogram, ms: number): LatencyHistogram {
  const next = [...histogram];
  const i = bucketOf(ms);
  next[i] = (next[i] ?? 0) + 1;
  return next;
}

/**
 * The bucket-wise sum of histograms (of several minutes, instances or collections). A shorter
 * array (such as `{}` read from SQL) counts as zeros.
 *
 * @example
 * mergeHistograms([record(emptyHistogram(), 1), record(emptyHistogram(), 1)])[2]   // 2
 */
export function mergeHistograms(histograms: readonly LatencyHistogram[]): LatencyHistogram {
  const sum = [...emptyHistogram()];
  for (const h of histograms) for (let i = 0; i < sum.length; i++) sum[i]! += Number(h[i] ?? 0);
  return sum;
}

/**
 * The latency at quantile `q` (0 < q ≤ 1), read as the upper bound of the bucket that holds
 * it; `Infinity` when it falls above the last bound, `null` for an empty histogram.
 *
 * @example
 * let h = emptyHistogram();
 * for (let i = 0; i < 99; i++) h = record(h, 0.2);
 * h = record(h, 100);
 * quantileMs(h, 0.95)   // 0.25
 * quantileMs(h, 1)      // 107.63…: the bound above 100
 */
export function quantileMs(histogram: LatencyHistogram, q: number): number | null {
  const total = histogram.reduce((a, b) => a + Number(b), 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += Number(histogram[i]);
    if (seen >= rank) return LATENCY_BOUNDS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * A latency for people (`ferry status`, the gates' details): at most three decimals and
 * rounded up, so a bucket bound shown still never understates; `∞` above the last bound.
 *
 * @example
 * formatLatencyMs(LATENCY_BOUNDS_MS[13]!)   // '2.38'
 * formatLatencyMs(LATENCY_BOUNDS_MS[64]!)   // '16384'
 * formatLatencyMs(Number.POSITIVE_INFINITY)  // '∞'
 */
export function formatLatencyMs(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const scale = ms >= 100 ? 1 : ms >= 10 ? 10 : ms >= 1 ? 100 : 1000;
  // The small tolerance keeps an exact bound such as 2 from a float's ceil to 2.01.
  return String(Math.ceil(ms * scale * (1 - 1e-12)) / scale);
}
