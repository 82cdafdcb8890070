import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  emptyHistogram,
  LATENCY_BOUNDS_MS,
  mergeHistograms,
  quantileMs,
  record,
} from '../../../src/runtime/latency-histogram.js';

describe('latency histogram', () => {
  it('puts a latency in the first bucket whose upper bound holds it', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.25)).toBe(0);
    expect(bucketOf(0.26)).toBe(1);
    expect(bucketOf(3)).toBe(4);
    expect(bucketOf(1e9)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it('reads a quantile as the upper bound of the bucket that holds it, never below the sample', () => {
    let h = emptyHistogram();
    for (let i = 0; i < 99; i++) h = record(h, 0.2);
    h = record(h, 100);
    expect(quantileMs(h, 0.95)).toBe(0.25);
    expect(quantileMs(h, 1)).toBe(128);
    expect(quantileMs(record(emptyHistogram(), 1e9), 0.5)).toBe(Number.POSITIVE_INFINITY);
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
});
