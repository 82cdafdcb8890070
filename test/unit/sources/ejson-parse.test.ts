import { Binary, BSONRegExp, Decimal128, Double, EJSON, Int32, Long, ObjectId, Timestamp, UUID } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidExtendedJsonError,
  jsonNumberToBson,
  parseExtendedJson,
  UnsafeIntegerError,
} from '../../../src/sources/ejson/parse-extended-json.js';
import { CORPUS_PARSE_ERRORS, CORPUS_VALID } from '../../fixtures/bson-corpus.js';
import { ejsonValue } from '../../support/ejson-arbitraries.js';

/** Deep identity: same classes, same values, same key order (toStrictEqual ignores key order). */
function expectIdentical(actual: unknown, expected: unknown): void {
  expect(actual).toStrictEqual(expected);
  expect(shape(actual)).toEqual(shape(expected));
}

function shape(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return Object.is(value, -0) ? '-0' : value;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  const kind = proto?.constructor?.name ?? 'null-proto';
  if (Array.isArray(value)) return [kind, value.map(shape)];
  if (value instanceof Date) return [kind, value.getTime()];
  if (value instanceof Double) return [kind, Object.is(value.value, -0) ? '-0' : String(value.value)];
  if ('_bsontype' in value) return [kind, EJSON.stringify(value as never, { relaxed: false })];
  return [kind, Object.entries(value).map(([k, v]) => [k, shape(v)])];
}

function both(text: string): { fast: unknown; slow: unknown } {
  const run = (f: () => unknown) => {
    try {
      return { ok: f() };
    } catch {
      return { threw: true }; // the error classes differ (Ferry's names the field)
    }
  };
  return {
    // EJSON.parse turns BSON undefined into null; Ferry keeps it (that is the one intended difference).
    fast: run(() => undefinedAsNull(parseExtendedJson(text))),
    slow: run(() => EJSON.parse(text, { relaxed: false })),
  };
}

function undefinedAsNull(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(undefinedAsNull);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype)
    return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = undefinedAsNull(record[key]);
  return record;
}

describe('parseExtendedJson', () => {
  it('returns exactly what EJSON.parse returns for generated documents, or throws when it throws', () => {
    fc.assert(
      fc.property(ejsonValue, (doc) => {
        const text = JSON.stringify(doc);
        const { fast, slow } = both(text);
        expectIdentical(fast, slow);
      }),
      { numRuns: 3000 },
    );
  });

  it('matches EJSON.parse on relaxed text written by EJSON.stringify', () => {
    fc.assert(
      fc.property(fc.object({ withBigInt: false, withDate: true, withNullPrototype: false }), (doc) => {
        const text = EJSON.stringify(doc as never, { relaxed: true });
        const { fast, slow } = both(text);
        expectIdentical(fast, slow);
      }),
      { numRuns: 1000 },
    );
  });

  it('turns plain numbers into Int32, Long or Double like canonical EJSON', () => {
    expect(jsonNumberToBson(5)).toStrictEqual(new Int32(5));
    expect(jsonNumberToBson(2 ** 31)).toStrictEqual(Long.fromNumber(2 ** 31));
    expect(jsonNumberToBson(-0)).toStrictEqual(new Double(-0));
    expect(jsonNumberToBson(2 ** 64)).toStrictEqual(new Double(2 ** 64));
    for (const text of [
      '0',
      '-0',
      '2147483647',
      '2147483648',
      '-2147483649',
      '9007199254740993',
      '9223372036854775807',
      '1e21',
      '1.0',
      '-1.5e-7',
    ]) {
      const { fast, slow } = both(`{"n":${text}}`);
      expectIdentical(fast, slow);
    }
  });

  it('builds every canonical wrapper with the same class as bson', () => {
    const doc = parseExtendedJson(
      '{"o":{"$oid":"59b99db4cfa9a34dcd7885b6"},"d":{"$date":{"$numberLong":"-1"}},"dec":{"$numberDecimal":"1.10"},' +
        '"nan":{"$numberDouble":"NaN"},"nz":{"$numberDouble":"-0.0"},"u":{"$uuid":"00112233-4455-6677-8899-aabbccddeeff"},' +
        '"t":{"$timestamp":{"t":4294967295,"i":1}},"r":{"$regex":"^a","$options":"i"}}',
    ) as Record<string, unknown>;
    expect(doc.o).toBeInstanceOf(ObjectId);
    expect(doc.d).toStrictEqual(new Date(-1));
    expect(doc.dec).toBeInstanceOf(Decimal128);
    expect(Number.isNaN((doc.nan as Double).value)).toBe(true);
    expect(Object.is((doc.nz as Double).value, -0)).toBe(true);
    expect(doc.u).toBeInstanceOf(UUID);
    expect(doc.t).toBeInstanceOf(Timestamp);
    expect(doc.r).toBeInstanceOf(BSONRegExp);
  });

  it('keeps key order and own "__proto__" keys without touching prototypes', () => {
    const text = '{"z":1,"__proto__":{"polluted":true},"a":{"$numberInt":"2"}}';
    const doc = parseExtendedJson(text) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['z', '__proto__', 'a']);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expectIdentical(doc, EJSON.parse(text, { relaxed: false }));
  });

  it('rejects keys holding NUL just like bson', () => {
    expect(() => parseExtendedJson('{"a\\u0000b":1}')).toThrow(/null bytes/);
  });

  it('accepts the legacy $binary/$type form, and refuses a $date number as the BSON corpus does', () => {
    const doc = parseExtendedJson('{"b":{"$binary":"AAE=","$type":"80"}}') as Record<string, unknown>;
    expect(doc.b).toStrictEqual(new Binary(Buffer.from([0, 1]), 0x80));
    expect(() => parseExtendedJson('{"d":{"$date":1000}}')).toThrow(InvalidExtendedJsonError);
  });

  it('gives BSON undefined for {"$undefined": true}, a present key, where EJSON.parse gives null', () => {
    const doc = parseExtendedJson('{"a":{"$undefined":true},"b":[{"$undefined":true}]}') as Record<
      string,
      unknown
    >;
    expect(Object.hasOwn(doc, 'a')).toBe(true);
    expect(doc.a).toBeUndefined();
    expect(doc.b).toEqual([undefined]);
  });

  it.each(CORPUS_PARSE_ERRORS)('refuses the BSON corpus parse error "%s"', (_, text) => {
    expect(() => parseExtendedJson(text)).toThrow();
  });

  it('names the field of a malformed wrapper, and never its value', () => {
    expect(() =>
      parseExtendedJson('{"a":{"b":{"$oid":"56e1fc72e0c917e9c4714161","unrelated":true}}}'),
    ).toThrow(/field "a\.b": "\$oid" must be the only key/);
    expect(() => parseExtendedJson('{"a":[{"$numberInt":"secret"}]}')).toThrow(
      /field "a\.0".*required form$/,
    );
  });

  it.each(CORPUS_VALID)('loads the valid BSON corpus case %s as EJSON.parse does', (_, text, canonical) => {
    expectIdentical(both(text as string).fast, both((canonical ?? text) as string).slow);
  });

  it('rejects integers a double cannot hold exactly only when asked', () => {
    expect(parseExtendedJson('{"n":9007199254740993}')).toStrictEqual({ n: Long.fromNumber(2 ** 53) });
    expect(() => parseExtendedJson('{"n":9007199254740993}', { rejectUnsafeIntegers: true })).toThrow(
      UnsafeIntegerError,
    );
    expect(
      parseExtendedJson('{"n":{"$numberLong":"9007199254740993"}}', { rejectUnsafeIntegers: true }),
    ).toStrictEqual({
      n: Long.fromString('9007199254740993'),
    });
  });
});
