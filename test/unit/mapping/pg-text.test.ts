import { Decimal128, Int32, Long } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numbersEqual } from '../../../src/mapping/canonical/index.js';
import { decimalFromString, decimalParts } from '../../../src/mapping/decimal-parts.js';
import { decodeJson, encodeJson } from '../../../src/mapping/json-value.js';
import {
  decimalFromText,
  decimalText,
  doubleText,
  exactDoubleDecimalText,
  parseTimestamptz,
  timestamptzText,
} from '../../../src/mapping/pg-text.js';

describe('PostgreSQL text forms', () => {
  it('writes Decimal128 in positional notation, keeping scale, and reads it back exactly', () => {
    const cases: [string, string][] = [
      ['1.50', '1.50'],
      ['-1.5E-3', '-0.0015'],
      ['1.23E+5', '123000'],
      ['1E+6111', `1${'0'.repeat(6111)}`],
      ['NaN', 'NaN'],
      ['-Infinity', '-Infinity'],
      ['-0', '-0'],
    ];
    for (const [input, text] of cases) {
      const value = Decimal128.fromString(input);
      expect(decimalText(value)).toBe(text);
      // Same value; the cohort may differ (1.23E+5 comes back as 123000), as in PostgreSQL itself.
      expect(numbersEqual(decimalFromText(text), value)).toBe(true);
    }
    const tiny = Decimal128.fromString('1E-6176');
    expect(decimalFromText(decimalText(tiny)).toString()).toBe('1E-6176');
  });

  it('builds Decimal128 from parts exactly as the bson library does', () => {
    for (const text of [
      '0',
      '-0.00',
      '9999999999999999999999999999999999',
      '1.234E+6100',
      '-7E-6176',
      '12.50',
    ]) {
      expect(decimalFromString(text).bytes).toEqual(Decimal128.fromString(text).bytes);
      const parts = decimalParts(Decimal128.fromString(text))!;
      expect(parts.coefficient.toString().length).toBeLessThanOrEqual(34);
    }
    expect(decimalParts(Decimal128.fromString('NaN'))).toBeUndefined();
  });

  it('writes doubles so -0 survives, and only exact decimals of doubles', () => {
    expect(doubleText(-0)).toBe('-0');
    expect(doubleText(Number.NaN)).toBe('NaN');
    expect(exactDoubleDecimalText(0.5)).toBe('0.5');
    expect(exactDoubleDecimalText(0.1)).toBeUndefined();
    expect(exactDoubleDecimalText(2 ** 60)).toBe('1152921504606846976');
  });

  it('writes timestamptz in UTC with ms and BC years, and parses any offset PostgreSQL prints', () => {
    expect(timestamptzText(new Date(0))).toBe('1970-01-01 00:00:00.000+00');
    expect(timestamptzText(new Date(Date.UTC(-1, 0, 1)))).toBe('0002-01-01 00:00:00.000+00 BC');
    expect(timestamptzText(new Date(8.64e15))).toBe('275760-09-13 00:00:00.000+00');
    expect(timestamptzText(new Date(Date.UTC(-4713, 10, 23, 23, 59, 59, 999)))).toBeUndefined();
    expect(parseTimestamptz('1970-01-01 05:30:00.5+05:30')).toBe(500);
    expect(parseTimestamptz('1969-12-31 20:30:00-03:30')).toBe(0);
    expect(parseTimestamptz('0002-01-01 00:00:00+00 BC')).toBe(Date.UTC(-1, 0, 1));
    expect(parseTimestamptz('275760-09-13 05:30:00+05:30')).toBe(8.64e15);
    expect(parseTimestamptz('infinity')).toBeUndefined();
    expect(parseTimestamptz('2024-01-01 00:00:00.000001+00')).toBeUndefined();
  });

  it('parses every UTC timestamptz as PostgreSQL prints it, trailing zeros of the fraction trimmed or not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
        fc.integer({ min: 0, max: 3 }),
        (ms, extraZeros) => {
          const text = timestamptzText(new Date(ms))!;
          const [stamp, fraction] = text.slice(0, -3).split('.') as [string, string];
          // PostgreSQL prints '.5' for 500 ms and nothing for 0; Ferry reads up to 6 digits.
          const trimmed = fraction.replace(/0+$/, '');
          const printed = `${stamp}${trimmed === '' ? '' : `.${trimmed}`}+00`;
          expect(parseTimestamptz(printed)).toBe(ms);
          expect(parseTimestamptz(`${stamp}.${fraction}${'0'.repeat(extraZeros)}+00`)).toBe(ms);
          expect(parseTimestamptz(`${stamp}.${fraction}001+00`)).toBeUndefined();
        },
      ),
    );
    expect(parseTimestamptz('0999-12-31 23:59:59.999+00')).toBe(Date.UTC(1000, 0, 1) - 1);
    expect(parseTimestamptz('2024-02-30 00:00:00+00')).toBe(Date.UTC(2024, 2, 1));
    expect(parseTimestamptz('2024-01-01 00:00:00.+00')).toBeUndefined();
    expect(parseTimestamptz('2024-01-01 0a:00:00+00')).toBeUndefined();
  });
});

describe('Ferry JSON form', () => {
  it('round-trips documents whose keys look like Extended JSON wrappers', () => {
    const doc = {
      $numberLong: '5',
      a: { $date: 'x', $ref: 'c', $id: new Int32(1) },
      '~': [Long.fromString('9007199254740993')],
    };
    const json = encodeJson(doc, []);
    expect(json).toEqual({
      '~$numberLong': '5',
      a: { '~$date': 'x', '~$ref': 'c', '~$id': 1 },
      '~~': [{ $numberLong: '9007199254740993' }],
    });
    expect(decodeJson(JSON.parse(JSON.stringify(json)))).toEqual(doc);
  });
});
