import { Decimal128, Double, Int32, Long } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decimal128Key,
  decimalStringKey,
  doubleKey,
  numberKey,
  numbersEqual,
} from '../../../src/mapping/canonical/number.js';

const decimal = fc
  .record({
    negative: fc.boolean(),
    coefficient: fc.oneof(fc.bigInt(0n, 10n ** 34n - 1n), fc.bigInt(0n, 1000n)),
    exponent: fc.oneof(fc.integer({ min: -6176, max: 6111 }), fc.integer({ min: -20, max: 20 })),
  })
  .map(({ negative, coefficient, exponent }) =>
    Decimal128.fromString(`${negative ? '-' : ''}${coefficient}E${exponent}`),
  );

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

describe('numberKey', () => {
  it('reads Decimal128 bytes to the same key as its text, for any coefficient and exponent', () => {
    fc.assert(
      fc.property(decimal, (d) => {
        expect(decimal128Key(d.bytes)).toBe(decimalStringKey(d.toString()));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives every finite double a key that parses back to exactly that double', () => {
    fc.assert(
      fc.property(finiteDouble, (x) => {
        const key = doubleKey(x);
        expect(Number(key)).toBe(x === 0 ? 0 : x);
        expect(key).toMatch(/^-?(0|[1-9]([0-9]*[1-9])?(e-?[1-9][0-9]*)?)$/);
      }),
      { numRuns: 5000 },
    );
  });

  it('equates a double with a Decimal128 holding its exact decimal expansion, when that fits 34 digits', () => {
    fc.assert(
      fc.property(finiteDouble, (x) => {
        const key = doubleKey(x);
        const [digits = '', exponent = '0'] = key.replace(/^-/, '').split('e');
        fc.pre(digits.length <= 34 && Number(exponent) >= -6176);
        const d = Decimal128.fromString(key.replace('e', 'E'));
        expect(numbersEqual(new Double(x), d)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('equates integral doubles with the Long and Decimal128 of the same integer, even beyond 2^53', () => {
    const integral = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map((b) => Number(b)),
    );
    fc.assert(
      fc.property(integral, (x) => {
        fc.pre(Math.abs(x) < 2 ** 63);
        const exact = BigInt(x);
        expect(numbersEqual(new Double(x), Long.fromBigInt(exact))).toBe(true);
        expect(numbersEqual(new Double(x), Decimal128.fromString(exact.toString()))).toBe(true);
        expect(numbersEqual(Long.fromBigInt(exact + 1n), new Double(x))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with numbersEqual for any two numbers of any BSON type', () => {
    const anyNumber = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => new Int32(n)),
      fc.integer({ min: -1000, max: 1000 }).map((n) => new Double(n / 8)),
      fc.bigInt(-1000n, 1000n).map((b) => Long.fromBigInt(b)),
      fc.bigInt(-1000n, 1000n).map((b) => Decimal128.fromString(`${b}E-3`)),
      fc.constantFrom(new Double(Number.NaN), new Double(-0), Decimal128.fromString('-0')),
    );
    fc.assert(
      fc.property(anyNumber, anyNumber, (a, b) => {
        expect(numbersEqual(a, b)).toBe(numberKey(a) === numberKey(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('normalises trailing zeros and signs the same way for every type', () => {
    expect(numberKey(new Int32(500))).toBe('5e2');
    expect(numberKey(Decimal128.fromString('500.00'))).toBe('5e2');
    expect(numberKey(Long.fromString('-1200'))).toBe('-12e2');
    expect(numberKey(new Double(0.5))).toBe('5e-1');
    expect(numberKey(Decimal128.fromString('-0.000'))).toBe('0');
    // The smallest subnormal is exactly 2^-1074 = 5^1074 · 10^-1074: all 751 digits, no rounding.
    expect(numberKey(new Double(5e-324))).toBe(`${5n ** 1074n}e-1074`);
  });
});
