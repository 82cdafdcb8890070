import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'bson';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalEqual, canonicalHash } from '../../../src/mapping/canonical/index.js';

const dec = (s: string) => Decimal128.fromString(s);
const long = (s: string) => Long.fromString(s);
const oidHex = '64b7f1c2a9e3d40012345678';
const uuidHex = '0f8fad5b-d9cb-469f-a165-70867728950e';
const bytes = (...b: number[]) => new Uint8Array(b);

/** [description, left, right]: each pair must be canonically equal. */
const equalPairs: [string, unknown, unknown][] = [
  ['Int32 5 and Double 5.0', new Int32(5), new Double(5)],
  ['Int32 5 and Long 5', new Int32(5), long('5')],
  ['Int32 5 and Decimal128 5.00', new Int32(5), dec('5.00')],
  ['Double 5 and Decimal128 0.5E1', new Double(5), dec('0.5E1')],
  ['a plain JS number and Int32', 7, new Int32(7)],
  ['a bigint and Long', 12n, long('12')],
  ['Long 2^53+1 and Decimal128 9007199254740993', long('9007199254740993'), dec('9007199254740993')],
  ['Long 2^63-1 and Decimal128 of the same digits', Long.MAX_VALUE, dec('9223372036854775807')],
  ['Double 2^53 and Long 2^53', new Double(2 ** 53), long('9007199254740992')],
  ['Double 1e22 and Decimal128 1E+22 (1e22 is exact in binary)', new Double(1e22), dec('1E+22')],
  ['Double 0.5 and Decimal128 0.5000', new Double(0.5), dec('0.5000')],
  ['Double 2^-10 and its exact Decimal128 0.0009765625', new Double(2 ** -10), dec('0.0009765625')],
  [
    'two 34-digit Decimal128 values written differently',
    dec('1234567890123456789012345678901234'),
    dec('1.234567890123456789012345678901234E+33'),
  ],
  ['Decimal128 at the smallest exponent, written two ways', dec('1E-6176'), dec('10E-6177')],
  ['NaN and NaN', new Double(Number.NaN), new Double(Number.NaN)],
  ['Double NaN and Decimal128 NaN', new Double(Number.NaN), dec('NaN')],
  ['-0 and 0', new Double(-0), new Int32(0)],
  ['Decimal128 -0 and Double 0', dec('-0'), new Double(0)],
  ['Decimal128 0E-6176 and Int32 0', dec('0E-6176'), new Int32(0)],
  ['Double Infinity and Decimal128 Infinity', new Double(Number.POSITIVE_INFINITY), dec('Infinity')],
  ['Double -Infinity and Decimal128 -Infinity', new Double(Number.NEGATIVE_INFINITY), dec('-Infinity')],
  ['objects whose keys are in a different order', { a: 1, b: { c: 1, d: 2 } }, { b: { d: 2, c: 1 }, a: 1 }],
  ['BSON undefined and BSON undefined', { a: 1, b: undefined }, { b: undefined, a: 1 }],
  ['undefined inside arrays', [undefined, 1], [undefined, 1]],
  ['ObjectIds with the same bytes', new ObjectId(oidHex), ObjectId.createFromHexString(oidHex)],
  ['Dates with the same milliseconds', new Date(1_700_000_000_123), new Date(1_700_000_000_123)],
  [
    'UUID and Binary subtype 4 with the same bytes',
    new UUID(uuidHex),
    new Binary(new UUID(uuidHex).buffer, 4),
  ],
  ['a Buffer and Binary subtype 0', Buffer.from([1, 2, 3]), new Binary(bytes(1, 2, 3), 0)],
  ['Timestamps with the same t and i', new Timestamp({ t: 5, i: 7 }), new Timestamp({ t: 5, i: 7 })],
  // The BSONRegExp constructor sorts flags itself; a value built some other way may not be sorted.
  [
    'regexes whose flags come in another order',
    Object.assign(new BSONRegExp('^a.b$'), { options: 'mi' }),
    /^a.b$/im,
  ],
  ['a JS RegExp and a BSONRegExp', /^a.b$/im, new BSONRegExp('^a.b$', 'im')],
  ['MinKey and MinKey', new MinKey(), new MinKey()],
  ['MaxKey and MaxKey', new MaxKey(), new MaxKey()],
  [
    'Code with scopes equal up to number type',
    new Code('f()', { a: new Int32(1) }),
    new Code('f()', { a: 1 }),
  ],
  ['Symbols with the same text', new BSONSymbol('x'), new BSONSymbol('x')],
  [
    'a DBRef and the document it is stored as',
    new DBRef('users', new ObjectId(oidHex)),
    {
      $id: new ObjectId(oidHex),
      $ref: 'users',
    },
  ],
  ['strings with NUL and emoji', 'a\u0000b🚀', 'a\u0000b🚀'],
  [
    'nested arrays of sub-documents with shuffled keys and mixed number types',
    {
      items: [
        { sku: 'a', qty: new Int32(2), price: dec('9.90') },
        { sku: 'b', qty: long('1') },
      ],
    },
    {
      items: [
        { price: dec('9.9'), qty: new Double(2), sku: 'a' },
        { qty: 1, sku: 'b' },
      ],
    },
  ],
];

/** [description, left, right]: each pair must be canonically different. */
const unequalPairs: [string, unknown, unknown][] = [
  ['Double 0.1 and Decimal128 0.1 (the double is not exactly 0.1)', new Double(0.1), dec('0.1')],
  ['Double 1e23 and Decimal128 1E+23 (1e23 rounds in binary)', new Double(1e23), dec('1E+23')],
  ['Long 2^53+1 and Double 2^53', long('9007199254740993'), new Double(2 ** 53)],
  ['Long 2^53+1 and Long 2^53', long('9007199254740993'), long('9007199254740992')],
  [
    '34-digit Decimal128 values differing in the last digit',
    dec('1234567890123456789012345678901234'),
    dec('1234567890123456789012345678901235'),
  ],
  ['Decimal128 1E-6176 and 0', dec('1E-6176'), new Int32(0)],
  ['Decimal128 1E+6111 and 1E+6110', dec('1E+6111'), dec('1E+6110')],
  ['5 and -5', new Int32(5), new Int32(-5)],
  ['NaN and 0', new Double(Number.NaN), new Int32(0)],
  ['NaN and Infinity', dec('NaN'), dec('Infinity')],
  ['Infinity and -Infinity', new Double(Number.POSITIVE_INFINITY), new Double(Number.NEGATIVE_INFINITY)],
  ['Infinity and the largest Decimal128', dec('Infinity'), dec('9.999999999999999999999999999999999E+6144')],
  ['a missing key and null', {}, { a: null }],
  ['BSON undefined and a missing key', { a: 1, b: undefined }, { a: 1 }],
  ['a missing key and BSON undefined', { a: 1 }, { a: 1, b: undefined }],
  ['BSON undefined and null', { a: undefined }, { a: null }],
  ['undefined and null inside an array', [undefined, 1], [null, 1]],
  ['null and a missing key (the other way round)', { a: null }, {}],
  ['arrays in a different order', [1, 2], [2, 1]],
  ['an empty array and an empty object', [], {}],
  ['an empty array and null', [], null],
  ['an empty object and null', {}, null],
  ['true and 1', true, 1],
  ['false and null', false, null],
  ['a number and its string', new Int32(5), '5'],
  ['precomposed é and e with a combining accent', '\u00e9', 'e\u0301'],
  ['strings differing by a NUL', 'ab', 'a\u0000b'],
  ['strings differing only in lone surrogates', '\ud800', '\udc00'],
  ['different ObjectIds', new ObjectId(oidHex), new ObjectId('64b7f1c2a9e3d40012345679')],
  ['an ObjectId and its hex string', new ObjectId(oidHex), oidHex],
  ['Dates one millisecond apart', new Date(1_700_000_000_123), new Date(1_700_000_000_124)],
  ['a Date and its milliseconds as a number', new Date(1000), new Double(1000)],
  ['Binary with the same bytes and another subtype', new Binary(bytes(1, 2), 0), new Binary(bytes(1, 2), 5)],
  ['Binary with different bytes', new Binary(bytes(1, 2), 0), new Binary(bytes(1, 3), 0)],
  ['a UUID and its string', new UUID(uuidHex), uuidHex],
  ['Timestamps differing in i', new Timestamp({ t: 5, i: 7 }), new Timestamp({ t: 5, i: 8 })],
  ['a Timestamp and a Long of the same 64 bits', new Timestamp({ t: 0, i: 7 }), long('7')],
  ['regexes with different patterns', new BSONRegExp('a', 'i'), new BSONRegExp('b', 'i')],
  ['regexes with different flags', new BSONRegExp('a', 'i'), new BSONRegExp('a', 'im')],
  ['MinKey and MaxKey', new MinKey(), new MaxKey()],
  ['Code with different text', new Code('f()'), new Code('g()')],
  ['Code without a scope and Code with an empty scope', new Code('f()'), new Code('f()', {})],
  ['a Symbol and the string with its text', new BSONSymbol('x'), 'x'],
  ['objects with one extra key', { a: 1 }, { a: 1, b: 1 }],
  ['deep values differing at the bottom', { a: { b: { c: [{ d: 1 }] } } }, { a: { b: { c: [{ d: 2 }] } } }],
];

describe('canonicalEqual', () => {
  it.each(equalPairs)('treats %s as equal, with identical bytes and hashes', (_, left, right) => {
    expect(canonicalEqual(left, right)).toBe(true);
    expect(canonicalEqual(right, left)).toBe(true);
    expect(canonicalBytes(left).equals(canonicalBytes(right))).toBe(true);
    expect(canonicalHash(left)).toBe(canonicalHash(right));
  });

  it.each(unequalPairs)('tells %s apart, in bytes and in hash too', (_, left, right) => {
    expect(canonicalEqual(left, right)).toBe(false);
    expect(canonicalEqual(right, left)).toBe(false);
    expect(canonicalBytes(left).equals(canonicalBytes(right))).toBe(false);
    expect(canonicalHash(left)).not.toBe(canonicalHash(right));
  });

  it('rejects values no BSON document can hold, with a stable code', () => {
    expect(() => canonicalEqual({ a: () => 1 }, { a: 1 })).toThrow(
      expect.objectContaining({ code: 'CANONICAL_UNSUPPORTED_VALUE' }),
    );
    expect(() => canonicalHash({ a: new Map() })).toThrow(
      expect.objectContaining({ code: 'CANONICAL_UNSUPPORTED_VALUE' }),
    );
  });

  it('hashes to an unsigned 64-bit bigint', () => {
    const h = canonicalHash({ a: 1 });
    expect(typeof h).toBe('bigint');
    expect(h >= 0n && h < 1n << 64n).toBe(true);
  });

  it('refuses a cyclic object instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalHash(cyclic)).toThrow(expect.objectContaining({ code: 'CANONICAL_TOO_DEEP' }));
  });
});
