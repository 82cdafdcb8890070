import { Decimal128 } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimal128Text } from '../../../src/mapping/decimal128-text.js';

/** decimal128Text formats the common case itself; it must always say what bson says. */
const bsonText = (bytes: Uint8Array) => new Decimal128(Buffer.from(bytes)).toString();

describe('decimal128Text, Decimal128.toString without the 128-bit division', () => {
  it.each([
    '0',
    '-0',
    '0.00',
    '0E+3',
    '1234.5600',
    '-0.000000001',
    '0.000001',
    '0.0000001',
    '123456789012345678901234567890',
    '9007199254740991',
    '9007199254740992',
    '1E+6144',
    '-1E-6176',
    '1.000000000000000000000000000000000E+6144',
    '12345E+2',
    'NaN',
    'Infinity',
    '-Infinity',
  ])('writes %s as Decimal128.toString does', (text) => {
    const { bytes } = Decimal128.fromString(text);
    expect(decimal128Text(bytes, 0)).toBe(bsonText(bytes));
  });

  it('writes decimals of every coefficient and exponent as Decimal128.toString does', () => {
    const decimals = fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 2n ** 60n }), fc.integer({ min: -6176, max: 6111 }))
      .map(([negative, coefficient, exponent]) => `${negative ? '-' : ''}${coefficient}E${exponent}`);
    fc.assert(
      fc.property(decimals, (text) => {
        const { bytes } = Decimal128.fromString(text);
        expect(decimal128Text(bytes, 0)).toBe(bsonText(bytes));
      }),
      { numRuns: 20_000 },
    );
  });

  it('writes any 16 bytes, at any offset, as Decimal128.toString writes them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(7), (bytes, offset) => {
        const padded = new Uint8Array(offset + 16);
        padded.set(bytes, offset);
        expect(decimal128Text(padded, offset)).toBe(bsonText(bytes));
      }),
      { numRuns: 20_000 },
    );
  });
});
