import { Decimal128 } from 'bson';
import { describe, expect, it } from 'vitest';
import { writeDecimal128Numeric, writeNumeric } from '../../../src/copy/copy-binary.js';
import { TextSink } from '../../../src/copy/text-sink.js';
import { Random } from '../../../src/generate/random.js';
import { decimalText } from '../../../src/mapping/pg-text.js';

/** What the general way writes: the decimal's text, then that text as binary numeric. */
function generalBytes(value: Decimal128): Buffer {
  const sink = new TextSink();
  writeNumeric(sink, decimalText(value));
  return Buffer.from(sink.bytes.subarray(0, sink.length));
}

/** What the direct way writes, or undefined when it declines. */
function directBytes(value: Decimal128): Buffer | undefined {
  const sink = new TextSink();
  sink.writeByte(0x7f); // something already in the sink, as in a row being built
  if (!writeDecimal128Numeric(sink, Buffer.from(value.bytes), 0)) return undefined;
  return Buffer.from(sink.bytes.subarray(1, sink.length));
}

describe('writeDecimal128Numeric', () => {
  it('writes exactly the bytes of writeNumeric(decimalText(d)) for money, zeros, signs and every exponent it takes', () => {
    const texts = [
      '0',
      '-0',
      '0.00',
      '-0.00',
      '0E+3',
      '1',
      '-1',
      '1.50',
      '19.99',
      '-12345.678',
      '0.0001',
      '0.00001',
      '1E+4',
      '1.23E+5',
      '-1.5E-3',
      '9007199254740991',
      '900719925474.0991',
      '1E-40',
      '1234567.12345678',
      '10000',
      '100000000',
      '0.10000',
    ];
    for (const text of texts) {
      const value = Decimal128.fromString(text);
      expect(directBytes(value), text).toEqual(generalBytes(value));
    }
  });

  it('agrees with the general way on 20,000 random decimals below 2^53 with exponents from -30 to +12', () => {
    const random = new Random(17);
    let taken = 0;
    for (let i = 0; i < 20_000; i++) {
      const digits = 1 + Math.floor(random.float() * 16);
      const coefficient = Math.floor(random.float() * 10 ** digits);
      const exponent = Math.floor(random.float() * 43) - 30;
      const sign = random.float() < 0.3 ? '-' : '';
      const value = Decimal128.fromString(`${sign}${coefficient}E${exponent}`);
      const direct = directBytes(value);
      if (direct === undefined) continue;
      taken++;
      expect(direct, value.toString()).toEqual(generalBytes(value));
    }
    // Declines are only for aligned coefficients past 2^53: most values are taken.
    expect(taken).toBeGreaterThan(15_000);
  });

  it('declines NaN, the infinities and coefficients of 2^53 and more, which the general way encodes', () => {
    for (const text of [
      'NaN',
      'Infinity',
      '-Infinity',
      '9007199254740992',
      '1234567890123456789012345678901234',
    ])
      expect(directBytes(Decimal128.fromString(text)), text).toBeUndefined();
    // Aligning to whole base-10000 digits would pass 2^53: 9007199254740991 × 10^3.
    expect(directBytes(Decimal128.fromString('9007199254740.991E-2'))).toBeUndefined();
  });
});
