import { Decimal128 } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainDecimal128 } from '../../../src/sources/ejson/plain-decimal.js';

const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** Decimal strings of the plain form, up to 17 digits so that some are too long for the fast path. */
const plainDecimalText = fc
  .tuple(fc.boolean(), digits(1, 17), fc.option(digits(1, 17), { nil: undefined }))
  .map(
    ([minus, whole, fraction]) =>
      `${minus ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}`,
  );

describe('plainDecimal128', () => {
  it('builds exactly the bytes Decimal128.fromString builds, for every plain decimal it accepts', () => {
    fc.assert(
      fc.property(plainDecimalText, (text) => {
        const fast = plainDecimal128(text);
        const digitCount = text.replace(/[-.]/g, '').length;
        expect(fast === undefined).toBe(digitCount > 15);
        if (fast !== undefined)
          expect(Buffer.from(fast.bytes)).toEqual(Buffer.from(Decimal128.fromString(text).bytes));
      }),
      { numRuns: 20_000 },
    );
  });

  it('keeps trailing zeros, leading zeros and the sign of zero as Decimal128.fromString does', () => {
    for (const text of [
      '1.50',
      '007.50',
      '-0',
      '-0.00',
      '0.00000000000001',
      '999999999999999',
      '4294967296.5',
    ]) {
      const fast = plainDecimal128(text);
      expect(fast?.toString()).toBe(Decimal128.fromString(text).toString());
      expect(Buffer.from(fast!.bytes)).toEqual(Buffer.from(Decimal128.fromString(text).bytes));
    }
  });

  it('leaves every other form to Decimal128.fromString', () => {
    for (const text of [
      '1E+3',
      '1e3',
      'NaN',
      'Infinity',
      '-Infinity',
      '+5',
      '.5',
      '5.',
      '',
      '-',
      '1.2.3',
      ' 1',
      '1234567890123456',
    ]) {
      expect(plainDecimal128(text)).toBeUndefined();
    }
  });
});
