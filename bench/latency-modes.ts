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

/**
 * Time `count` rounds of `modes` operations, interleaved mode by mode within each round (so a
 * shared machine's swings fall on every mode alike), each operation timed on its own.
 *
 * @example
 * const { latencies, seconds } = await timeInterleaved(2, 100, async (mode, i) => { void mode; void i; });
 * latencies[0]?.length   // 100
 */
export async function timeInterleaved(
  modes: number,
  count: number,
  run: (mode: number, i: number) => Promise<unknown>,
): Promise<{ latencies: Float64Array[]; seconds: number }> {
  const latencies = Array.from({ length: modes }, () => new Float64Array(count));
  const started = performance.now();
  for (let i = 0; i < count; i++)
    for (let m = 0; m < modes; m++) {
      const t = performance.now();
      await run(m, i);
      latencies[m]![i] = performance.now() - t;
    }
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
