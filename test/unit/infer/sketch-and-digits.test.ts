import { describe, expect, it } from 'vitest';
import { compareDecimal, decimalShape, formatDecimal } from '../../../src/infer/decimal-shape.js';
import { HashSketch, hash53, Reservoir } from '../../../src/infer/index.js';

describe('HashSketch', () => {
  it('is exact up to its capacity and never stores more than it', () => {
    const sketch = new HashSketch(100);
    for (let i = 0; i < 100; i++) sketch.add(hash53(`v${i}`));
    expect([sketch.exact, sketch.distinct]).toEqual([true, 100]);
    for (let i = 100; i < 10_000; i++) sketch.add(hash53(`v${i}`));
    expect(sketch.exact).toBe(false);
    expect(sketch.size).toBeLessThanOrEqual(100);
    // size × 2^level estimates 10 000 within a few standard errors (~1/sqrt(size)).
    expect(sketch.distinct).toBeGreaterThan(5_000);
    expect(sketch.distinct).toBeLessThan(20_000);
  });

  it('keeps merged sketches coordinated so containment stays meaningful', () => {
    const a = new HashSketch(64);
    const b = new HashSketch(64);
    for (let i = 0; i < 1000; i++) a.add(hash53(`x${i}`));
    for (let i = 0; i < 2000; i++) b.add(hash53(`x${i}`));
    // Every value of a is in b: a coordinated sample can only find matches.
    expect(a.containmentIn(b).fraction).toBe(1);
    const merged = new HashSketch(64);
    merged.merge(a);
    merged.merge(b);
    expect(merged.size).toBeLessThanOrEqual(64);
    expect(merged.level).toBeGreaterThanOrEqual(b.level);
  });
});

describe('decimal digits', () => {
  it('gives the numeric precision and scale a value needs, keeping Decimal128 trailing zeros', () => {
    expect(decimalShape('1.50')).toMatchObject({ precision: 3, scale: 2 });
    expect(decimalShape('0.0012')).toMatchObject({ precision: 4, scale: 4 });
    expect(decimalShape('1.23E+5')).toMatchObject({ precision: 6, scale: 0 });
    expect(decimalShape('-1.5e-7')).toMatchObject({ precision: 8, scale: 8, negative: true });
    expect(decimalShape('NaN')).toBeUndefined();
    expect(decimalShape('-Infinity')).toBeUndefined();
  });

  it('orders decimals by value across exponents and signs', () => {
    const sorted = ['10', '-3', '0.5', '1E+3', '-0.25', '0', '9.99'].map((t) => decimalShape(t)!);
    sorted.sort(compareDecimal);
    expect(sorted.map(formatDecimal)).toEqual(['-3', '-0.25', '0', '0.5', '9.99', '10', '1000']);
  });
});

describe('Reservoir', () => {
  it('draws the same uniform sample for the same seed and keeps input order', () => {
    const draw = (seed: number) => {
      const r = new Reservoir<number>(10, seed);
      for (let i = 0; i < 1000; i++) r.offer(i);
      return r.items();
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const items = draw(7);
    expect(items).toHaveLength(10);
    expect([...items].sort((a, b) => a - b)).toEqual(items);
  });
});
