import { BSON, type Document, EJSON } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateNastyDocuments } from '../../../src/generate/nasty-documents.js';
import { parseExportLine } from '../../../src/sources/ejson/ejson-source.js';
import type { RawRecord } from '../../../src/sources/ejson/raw-records.js';
import { recordToDocument } from '../../../src/sources/ejson/record-to-document.js';
import { recordToFrame } from '../../../src/sources/ejson/record-to-frame.js';
import { ejsonValue } from '../../support/ejson-arbitraries.js';

const context = { file: 'things.json', collection: 'things', parse: parseExportLine };

function recordOf(text: string): RawRecord {
  const bytes = Buffer.from(text);
  return { bytes, line: 7, offset: 100, end: 100 + bytes.length + 1, length: bytes.length, oversize: false };
}

/**
 * The frame, when recordToFrame gives one, must be what the full path gives: a document (not
 * a reject) that serializes to the very same bytes. Returns whether it gave one.
 */
function expectSameAsFullPath(text: string): boolean {
  const record = recordOf(text);
  const fast = recordToFrame(record);
  if (fast === undefined) return false;
  const full = recordToDocument(record, context);
  expect(full).toHaveProperty('doc');
  const doc = (full as { doc: Document }).doc;
  expect(fast.frame.offset).toBe(record.offset);
  expect(fast.frame.bytes.toString('hex')).toBe(Buffer.from(BSON.serialize(doc)).toString('hex'));
  return true;
}

describe('recordToFrame', () => {
  it('writes exactly the bytes of the parsed document, for generated Extended JSON, or leaves the record to the full path', () => {
    let framed = 0;
    fc.assert(
      fc.property(ejsonValue, (doc) => {
        if (expectSameAsFullPath(JSON.stringify(doc))) framed++;
      }),
      { numRuns: 5000 },
    );
    // Most generated documents hold a wrapper the fast path leaves alone; still, many are framed.
    expect(framed).toBeGreaterThan(200);
  });

  it('writes exactly the bytes of the parsed document for the nasty documents, canonical and relaxed', () => {
    let framed = 0;
    let total = 0;
    for (const { doc } of generateNastyDocuments(17, 3000)) {
      for (const relaxed of [false, true]) {
        total++;
        if (expectSameAsFullPath(EJSON.stringify(doc, { relaxed }))) framed++;
      }
    }
    expect(framed).toBeGreaterThan(total / 4);
  });

  it('frames the shapes mongoexport writes, with every common wrapper', () => {
    const line =
      '{"_id":{"$oid":"5F5E10000000000000000000"},"d":{"$date":{"$numberLong":"-1396281726624"}},' +
      '"r":{"$date":"2014-03-31T16:02:06.624Z"},"e":{"$date":"1901-12-13T20:45:51.999Z"},"i":{"$numberInt":"-0"},"l":{"$numberLong":"-9223372036854775808"},' +
      '"f":{"$numberDouble":"-0.0"},"inf":{"$numberDouble":"-Infinity"},"m":{"$numberDecimal":"-0.50"},' +
      '"n":[1,-0,2147483648,-2147483649,9007199254740991,-9007199254740991,-4294967296,1e300,0.1,true,null,"é\\ud800x"],"__proto__":{"a.b":{"":"x"}}}';
    expect(expectSameAsFullPath(line)).toBe(true);
    expect(expectSameAsFullPath(`\ufeff${line}`)).toBe(true);
  });

  it('grows past its first buffer mid-document and still writes the same bytes', () => {
    const long = 'é'.repeat(40_000);
    const line = `{"a":"${long}","b":{"$numberDecimal":"21.95"},"c":["${long}",{"$numberDecimal":"-0.01"}]}`;
    expect(expectSameAsFullPath(line)).toBe(true);
  });

  it('hands out frames that later records, failed ones and growth never overwrite', () => {
    // Kept until every record is written: the writer's buffers fill and are replaced meanwhile.
    const long = 'é'.repeat(300_000);
    const lines = [...generateNastyDocuments(23, 1500)].map(({ doc }, i) =>
      EJSON.stringify(doc, { relaxed: i % 2 === 1 }),
    );
    lines.splice(700, 0, `{"a":"${long}","b":{"$numberDecimal":"1E+3"}}`, `{"a":"${long}"}`);
    const kept = lines.map((line) => [line, recordToFrame(recordOf(line))] as const);
    let framed = 0;
    for (const [line, fast] of kept) {
      if (fast === undefined) continue;
      framed++;
      const full = recordToDocument(recordOf(line), context) as { doc: Document };
      expect(fast.frame.bytes.toString('hex')).toBe(Buffer.from(BSON.serialize(full.doc)).toString('hex'));
    }
    expect(framed).toBeGreaterThan(lines.length / 4);
  });

  it('leaves to the full path every record it cannot write exactly, so rejects stay as they were', () => {
    for (const text of [
      '{"a":{"$undefined":true}}',
      '{"a":{"$numberDouble":"NaN"}}',
      '{"a":{"$numberDecimal":"1E+3"}}',
      '{"a":9007199254740993}',
      '{"a":{"$date":"not a date"}}',
      '{"a":{"$date":{"$numberLong":"9000000000000000"}}}',
      '{"a":{"$oid":"5f5e1000","x":1}}',
      '{"a\\u0000b":1}',
      '{"$oid":"5f5e10000000000000000000"}',
      '[1,2]',
      '{"a":',
      // bson reads an object with this key as one of its types; the full path decides.
      '{"a":{"_bsontype":"Code","code":"x"}}',
      '{"_bsontype":"ObjectId"}',
    ]) {
      expect(recordToFrame(recordOf(text))).toBeUndefined();
    }
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    expect(recordToFrame({ ...recordOf(''), bytes: bad, length: bad.length })).toBeUndefined();
  });
});
