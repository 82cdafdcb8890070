/**
 * Latency histograms with fixed bucket bounds, so counts kept by many app instances (shadow
 * reads, write paths) can be added in SQL (`ferry.shadow_reads.primary_ms`, a `bigint[]` of
 * counts per bucket) and a percentile read over any window without keeping every sample.
 *
 * The bounds double from 0.25 ms to about 16 s: a percentile read back is the upper bound of
 * its bucket, so it overstates by at most 2 ×, and never understates. That is the right side to
 * err on for a gate such as "PostgreSQL's p95 ≤ 1.5 × MongoDB's", where both sides are
 * measured in the same buckets.
 */

/**
 * The upper bound (ms, inclusive) of each bucket; a last, open bucket holds what is above the
 * last bound.
 *
 * @example
 * LATENCY_BOUNDS_MS[0]        // 0.25
 * LATENCY_BOUNDS_MS.length    // 17, so a histogram has 18 counts
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze(
  Array.from({ length: 17 }, (_, i) => 0.25 * 2 ** i),
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
 * bucketOf(3)       // 4: (2, 4]
 * bucketOf(1e9)     // 17: above every bound
 */
export function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/**
 * The histogram with one more sample.
 *
 * @example
 * const h = record(emptyHistogram(), 3);
 * h[4]   // 1
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
 * quantileMs(h, 1)      // 128
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
