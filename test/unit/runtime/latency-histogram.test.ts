import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  emptyHistogram,
  formatLatencyMs,
  LATENCY_BOUNDS_MS,
  mergeHistograms,
  quantileMs,
  record,
} from '../../../src/runtime/latency-histogram.js';

const QUARTER = 2 ** (1 / 4);

/** The p95 of `n` samples of `ms`. */
function p95Of(ms: number, n = 20): number | null {
  let h = emptyHistogram();
  for (let i = 0; i < n; i++) h = record(h, ms);
  return quantileMs(h, 0.95);
}

describe('latency histogram', () => {
  it('has four bounds to a doubling from 0.25 ms to 16384 ms, every fourth one a power of two', () => {
    expect(LATENCY_BOUNDS_MS.length).toBe(65);
    expect(LATENCY_BOUNDS_MS[0]).toBe(0.25);
    expect(LATENCY_BOUNDS_MS[64]).toBe(16384);
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++)
      expect(LATENCY_BOUNDS_MS[i]! / LATENCY_BOUNDS_MS[i - 1]!).toBeCloseTo(QUARTER, 12);
    // The doubling bounds of the layout before state step 20, exactly: its counts move here.
    expect(LATENCY_BOUNDS_MS.filter((_, i) => i % 4 === 0)).toEqual(
      Array.from({ length: 17 }, (_, j) => 0.25 * 2 ** j),
    );
  });

  it('puts a latency in the first bucket whose upper bound holds it', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.25)).toBe(0);
    expect(bucketOf(0.26)).toBe(1);
    expect(bucketOf(2)).toBe(12);
    expect(bucketOf(2.01)).toBe(13);
    expect(bucketOf(3)).toBe(15);
    expect(bucketOf(16384)).toBe(64);
    expect(bucketOf(1e9)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it('reads a quantile as the upper bound of the bucket that holds it, never below the sample', () => {
    let h = emptyHistogram();
    for (let i = 0; i < 99; i++) h = record(h, 0.2);
    h = record(h, 100);
    expect(quantileMs(h, 0.95)).toBe(0.25);
    expect(quantileMs(h, 1)).toBe(LATENCY_BOUNDS_MS[35]);
    expect(quantileMs(h, 1)).toBeCloseTo(107.63, 2);
    expect(quantileMs(record(emptyHistogram(), 1e9), 0.5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('overstates a latency between the first and last bound by less than 2^(1/4), and never understates it', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.25, max: 16384, noNaN: true }), (ms) => {
        const read = p95Of(ms, 1)!;
        expect(read).toBeGreaterThanOrEqual(ms);
        expect(read).toBeLessThan(ms * QUARTER * (1 + 1e-12));
      }),
    );
  });

  it('lets a p95 ratio of 1.3 pass a 1.5 limit and refuses one of 1.7, wherever the two fall', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.25, max: 9000, noNaN: true }), (mongo) => {
        expect(p95Of(mongo * 1.3)! / p95Of(mongo)!).toBeLessThanOrEqual(1.5);
        expect(p95Of(mongo * 1.7)! / p95Of(mongo)!).toBeGreaterThan(1.5);
      }),
    );
  });

  it('has no quantile when nothing was recorded', () => {
    expect(quantileMs(emptyHistogram(), 0.95)).toBeNull();
  });

  it('adds histograms bucket by bucket and reads a short array from SQL as zeros', () => {
    const merged = mergeHistograms([record(emptyHistogram(), 1), record(emptyHistogram(), 1), []]);
    expect(merged[bucketOf(1)]).toBe(2);
    expect(merged.length).toBe(LATENCY_BOUNDS_MS.length + 1);
    expect(merged.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('leaves the histogram it records into unchanged', () => {
    const h = emptyHistogram();
    record(h, 5);
    expect(h.every((n) => n === 0)).toBe(true);
  });

  it('shows a bound for people with at most three decimals, rounded up so it still never understates', () => {
    expect(LATENCY_BOUNDS_MS.slice(10, 17).map(formatLatencyMs)).toEqual([
      '1.42',
      '1.69',
      '2',
      '2.38',
      '2.83',
      '3.37',
      '4',
    ]);
    expect(formatLatencyMs(LATENCY_BOUNDS_MS[1]!)).toBe('0.298');
    expect(formatLatencyMs(LATENCY_BOUNDS_MS[30]!)).toBe('45.3');
    expect(formatLatencyMs(LATENCY_BOUNDS_MS[63]!)).toBe('13778');
    expect(formatLatencyMs(Number.POSITIVE_INFINITY)).toBe('∞');
    for (const bound of LATENCY_BOUNDS_MS)
      expect(Number(formatLatencyMs(bound))).toBeGreaterThanOrEqual(bound);
  });
});
