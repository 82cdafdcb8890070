import type { CaseResult } from './harness.js';

/**
 * The latency benchmarks time several modes (bare, through Ferry, …) interleaved in one process
 * and report each mode's percentiles as the case's extras, `<mode>.p50` and so on.
 */

/**
 * One mode's p50, p95, p99 and summed time of its timed operations, as case extras (ms, the
 * sum in seconds), rounded to `digits` decimals. Sorts `latencies` in place.
 *
 * @example
 * latencyExtras('bare', new Float64Array([1, 2, 3]), 2)['bare.p50']   // 2
 */
export function latencyExtras(mode: string, latencies: Float64Array, digits: number): Record<string, number> {
  const round = (n: number) => Math.round(n * 10 ** digits) / 10 ** digits;
  const sorted = latencies.sort();
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return {
    [`${mode}.p50`]: at(0.5),
    [`${mode}.p95`]: at(0.95),
    [`${mode}.p99`]: at(0.99),
    [`${mode}.seconds`]: round(sorted.reduce((a, b) => a + b, 0) / 1000),
  };
}

/**
 * One mode's figures out of a case that timed several: `count` operations over the sum of their
 * latencies, and its percentiles as `p50`, `p95`, `p99`.
 *
 * @example
 * declare const run: CaseResult;
 * const bare = modeResult(run, 'bare', 1000);
 * bare.extra?.p95
 */
export function modeResult(run: CaseResult, mode: string, count: number): CaseResult {
  return {
    docs: count,
    bytes: 0,
    seconds: Number(run.extra?.[`${mode}.seconds`]),
    maxRssMb: run.maxRssMb,
    extra: Object.fromEntries(['p50', 'p95', 'p99'].map((q) => [q, Number(run.extra?.[`${mode}.${q}`])])),
  };
}
