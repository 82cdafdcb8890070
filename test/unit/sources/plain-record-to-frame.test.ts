import { BSON, Int32 } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateNastyDocuments } from '../../../src/generate/nasty-documents.js';
import { extendedJsonToBson } from '../../../src/sources/ejson/extended-json-to-bson.js';
import type { RawRecord } from '../../../src/sources/ejson/raw-records.js';
import { recordToDocument } from '../../../src/sources/ejson/record-to-document.js';
import { parseExactJson } from '../../../src/sources/json/exact-integers.js';
import { plainRecordToFrame } from '../../../src/sources/json/plain-record-to-frame.js';
import { type PlainIdRule, plainRecordsToDocs } from '../../../src/sources/json/plain-records.js';
import { plainJsonValue } from '../../support/plain-json-value.js';

const context = { file: 'things.json', collection: 'things' };

function recordOf(text: string): RawRecord {
  const bytes = Buffer.from(text);
  return { bytes, line: 7, offset: 100, end: 100 + bytes.length + 1, length: bytes.length, oversize: false };
}

/** What the full path gives a record at `index`: the frame's hex, or a reject's code. */
function fullPath(record: RawRecord, index: number, rule: PlainIdRule, someHaveIds: boolean): string {
  const parsed = recordToDocument(record, { ...context, parse: parseExactJson });
  if ('reject' in parsed) return parsed.reject.code;
  const [result] = plainRecordsToDocs(
    [{ value: parsed.doc, position: index, path: '' }],
    rule,
    context,
    someHaveIds,
  );
  if (!result || 'reject' in result) return result?.reject.code ?? 'none';
  return Buffer.from(BSON.serialize(result.doc)).toString('hex');
}

/**
 * The frame, when plainRecordToFrame gives one, must be exactly what the full path gives: a
 * document (not a reject) that serializes to the very same bytes. Returns whether it gave one.
 */
function expectSameAsFullPath(text: string, rule: PlainIdRule = {}, someHaveIds = true, index = 3): boolean {
  const record = recordOf(text);
  const fast = plainRecordToFrame(record, index, rule, someHaveIds);
  if (fast === undefined) return false;
  expect(fast.frame.offset).toBe(record.offset);
  expect(fast.frame.bytes.toString('hex')).toBe(fullPath(record, index, rule, someHaveIds));
  return true;
}

const rules: [PlainIdRule, boolean][] = [
  [{}, true],
  [{}, false],
  [{ idField: 'id' }, false],
  [{ idField: 'code' }, false],
];

describe('plainRecordToFrame', () => {
  it('writes exactly the bytes of the document the id rule builds, for generated JSON objects, or leaves the record to the full path', () => {
    let framed = 0;
    const key = fc.oneof(
      fc.string(),
      fc.constantFrom('_id', 'id', 'code', '0', '$a', '__proto__', '_bsontype'),
    );
    const record = fc.dictionary(key, fc.jsonValue(), { maxKeys: 8 });
    fc.assert(
      fc.property(record, fc.integer({ min: 0, max: rules.length - 1 }), (value, r) => {
        const [rule, someHaveIds] = rules[r]!;
        if (expectSameAsFullPath(JSON.stringify(value), rule, someHaveIds)) framed++;
      }),
      { numRuns: 5000 },
    );
    expect(framed).toBeGreaterThan(500);
  });

  it('writes exactly the bytes of the nasty documents as an application keeps them in plain JSON', () => {
    let framed = 0;
    let total = 0;
    for (const { doc } of generateNastyDocuments(17, 3000)) {
      const text = JSON.stringify(plainJsonValue(doc));
      if (text === undefined) continue;
      for (const [rule, someHaveIds] of rules) {
        total++;
        if (expectSameAsFullPath(text, rule, someHaveIds)) framed++;
      }
    }
    expect(framed).toBeGreaterThan(total / 4);
  });

  it('gives every id the rule gives: its own _id, an id field, a configured field, the position', () => {
    const body =
      '"n":[1,-0,2147483648,900719925474099,1e300,0.1,true,null,"é😀"],"__proto__":{"a.b":{"":"x"}}';
    expect(expectSameAsFullPath(`{${body},"_id":"a"}`)).toBe(true);
    expect(expectSameAsFullPath(`{"id":{"k":[2]},${body}}`)).toBe(true);
    expect(expectSameAsFullPath(`{"code":7,${body},"id":1}`, { idField: 'code' }, false)).toBe(true);
    expect(expectSameAsFullPath(`\ufeff{${body}}`, {}, false, 41)).toBe(true);
  });

  it('grows past its first buffer mid-document and still writes the same bytes', () => {
    const long = 'é'.repeat(40_000);
    expect(expectSameAsFullPath(`{"_id":1,"a":"${long}","c":["${long}",{"d":-0.01}]}`)).toBe(true);
  });

  it('leaves to the full path every record it cannot write exactly, so rejects and key order stay as they were', () => {
    for (const [text, rule, someHaveIds] of [
      ['{"a":1}', {}, true], // no id while others have one: a reject
      ['{"a":1}', { idField: 'code' }, false], // the configured field is missing: a reject
      ['{"_id":1,"a":9007199254740993}', {}, true], // unsafe integer
      ['{"_id":1,"a":12345678901234567890}', {}, true], // read exactly, as int64
      ['{"_id":1,"a":{"$oid":"5f5e10000000000000000000"}}', {}, true], // no wrapper in plain JSON
      ['{"_id":1,"$a":1}', {}, true],
      ['{"id":1,"0":1}', {}, true], // "0" goes before _id in the full path's document
      ['{"code":1,"_id":2}', { idField: 'code' }, false], // a second _id takes the first place
      ['{"_id":1,"a":{"_bsontype":"ObjectId"}}', {}, true],
      ['{"_id":1,"a":"undefined"}', {}, true], // kept decoded by the full path
      ['{"_id":1,"a\\u0000b":1}', {}, true],
      ['[1,2]', {}, true],
      ['7', {}, false],
      ['{"_id":1,"a":', {}, true],
    ] as [string, PlainIdRule, boolean][]) {
      expect(plainRecordToFrame(recordOf(text), 0, rule, someHaveIds), text).toBeUndefined();
    }
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    expect(
      plainRecordToFrame({ ...recordOf(''), bytes: bad, length: bad.length }, 0, {}, false),
    ).toBeUndefined();
  });

  it('shares its writer with extendedJsonToBson and reads wrappers only for Extended JSON, whichever ran before', () => {
    const wrapped = { _id: 1, w: { $numberInt: '1' } };
    expect(extendedJsonToBson(wrapped)).toEqual(
      Buffer.from(BSON.serialize({ _id: new Int32(1), w: new Int32(1) })),
    );
    expect(expectSameAsFullPath(JSON.stringify(wrapped))).toBe(false);
    expect(extendedJsonToBson(wrapped)).toEqual(
      Buffer.from(BSON.serialize({ _id: new Int32(1), w: new Int32(1) })),
    );
  });
});
