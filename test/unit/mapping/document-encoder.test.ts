import { BSON, type Document, Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { binaryColumnTypes, writeBinaryRow } from '../../../src/copy/copy-binary.js';
import { encodeCopyLine } from '../../../src/copy/copy-text.js';
import { TextSink } from '../../../src/copy/text-sink.js';
import { generateMarketplace, generateNastyDocuments, seedFromEnv } from '../../../src/generate/index.js';
import { DocumentEncoder } from '../../../src/mapping/bson-copy/document-encoder.js';
import { type CompiledTable, compiledCollection } from '../../../src/mapping/compile.js';
import type { Plan } from '../../../src/mapping/model.js';
import type { RowValues } from '../../../src/mapping/row-values.js';
import { toRows } from '../../../src/mapping/to-rows.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { DESERIALIZE_OPTIONS } from '../../../src/sources/bson/decode-frame.js';
import { planFromDocs } from './support/plan-from-docs.js';

/**
 * The fast path must write exactly what the ordinary path writes, or hand the document back.
 * These tests compare the two byte for byte: `encode(bytes)` against
 * `encodeCopyLine(toRows(BSON.deserialize(bytes)))`, table by table.
 */
const SEED = seedFromEnv(20261122);

type Outcome =
  | { kind: 'equal' }
  | { kind: 'handed-back' }
  | { kind: 'different'; table: string; fast: string; slow: string };

const encoders = new WeakMap<Plan, Map<string, DocumentEncoder>>();

function encoderFor(plan: Plan, collection: string, binary: boolean): DocumentEncoder {
  const byName = encoders.get(plan) ?? new Map<string, DocumentEncoder>();
  encoders.set(plan, byName);
  let encoder = byName.get(`${binary} ${collection}`);
  if (encoder === undefined) {
    const compiled = compiledCollection(plan, collection);
    const types = compiled.tables.map((t) => (binary ? binaryColumnTypes(t.columnTypes) : undefined));
    encoder = DocumentEncoder.for(compiled, new TextSink(64), types);
    if (encoder === undefined) throw new Error(`${collection} has no fast path`);
    byName.set(`${binary} ${collection}`, encoder);
  }
  return encoder;
}

/** The ordinary path's output for one table: COPY text lines, or binary rows where the table allows. */
function slowOutput(table: CompiledTable, rows: readonly RowValues[], binary: boolean): string {
  const types = binary ? binaryColumnTypes(table.columnTypes) : undefined;
  if (types === undefined) return rows.map((row) => encodeCopyLine(row, table.columnNames)).join('');
  const sink = new TextSink(64);
  for (const row of rows) writeBinaryRow(sink, row, table.columnNames, types);
  return sink.bytes.toString('latin1', 0, sink.length);
}

function compare(
  plan: Plan,
  collection: string,
  bytes: Buffer,
  binary = false,
): Outcome & { slowOk: boolean } {
  const compiled = compiledCollection(plan, collection);
  const encoder = encoderFor(plan, collection, binary);
  const sinks = compiled.tables.map(() => new TextSink(64));
  const rows = new Int32Array(compiled.tables.length);
  const fastOk = encoder.encode(bytes, sinks, rows);
  let slowOk = false;
  let slowText: string[] = [];
  let slowRows: number[] = [];
  try {
    const result = toRows(plan, collection, BSON.deserialize(bytes, DESERIALIZE_OPTIONS));
    if (result.ok) {
      slowOk = true;
      slowText = compiled.tables.map((t) => slowOutput(t, result.rows.get(t.name) ?? [], binary));
      slowRows = compiled.tables.map((t) => result.rows.get(t.name)?.length ?? 0);
    }
  } catch {
    // Bytes the full decoder refuses: a read reject; the fast path must hand them back too.
  }
  if (!fastOk) return { kind: 'handed-back', slowOk };
  if (!slowOk) return { kind: 'different', table: '(all)', fast: 'accepted', slow: 'rejected', slowOk };
  for (const [i, table] of compiled.tables.entries()) {
    const encoding = binary && binaryColumnTypes(table.columnTypes) ? 'latin1' : 'utf8';
    const fast = sinks[i]!.bytes.toString(encoding, 0, sinks[i]!.length);
    if (fast !== slowText[i])
      return { kind: 'different', table: table.name, fast, slow: slowText[i]!, slowOk };
    if (rows[i] !== slowRows[i]) throw new Error(`row count of ${table.name}`);
  }
  return { kind: 'equal', slowOk };
}

function nastyPlan(): Plan {
  const sample = new Map<string, Document[]>();
  for (const { collection, doc } of generateNastyDocuments(SEED, 2000)) {
    sample.set(collection, [...(sample.get(collection) ?? []), doc]);
  }
  return parsePlan(planFromDocs(sample));
}

describe('DocumentEncoder (the BSON fast path)', () => {
  it.each([
    ['text', false],
    ['binary', true],
  ])(
    `writes the %s toRows writes for every nasty document it takes, and takes nearly all (seed ${SEED})`,
    (_, binary) => {
      const plan = nastyPlan();
      let equal = 0;
      let handedBack = 0;
      let rejected = 0;
      for (const { collection, doc } of generateNastyDocuments(SEED, 20_000)) {
        let bytes: Buffer;
        try {
          bytes = Buffer.from(BSON.serialize(doc));
        } catch {
          continue; // not serializable at all: no BSON source could hold it
        }
        const outcome = compare(plan, collection, bytes, binary);
        if (outcome.kind === 'different')
          expect.fail(`${collection}.${outcome.table}:\nfast ${outcome.fast}\nslow ${outcome.slow}`);
        if (!outcome.slowOk) rejected++;
        else if (outcome.kind === 'equal') equal++;
        else handedBack++;
      }
      // Handing back is always correct, so a fast path that took nothing would pass the loop.
      expect(equal).toBeGreaterThan(0.95 * (equal + handedBack));
      expect(rejected).toBeGreaterThan(0);
    },
  );

  it.each([
    ['text', false],
    ['binary', true],
  ])('takes every generated marketplace document and writes the %s toRows writes', (_, binary) => {
    const data = generateMarketplace({ seed: SEED, scale: 6000 });
    const plan = parsePlan(planFromDocs(new Map(data.map((c) => [c.name, [...c.docs()]]))));
    for (const collection of data) {
      for (const doc of collection.docs()) {
        const outcome = compare(plan, collection.name, Buffer.from(BSON.serialize(doc)), binary);
        expect(outcome).toEqual({ kind: 'equal', slowOk: true });
      }
    }
  });

  describe('hands the document back to the full path', () => {
    const plan = parsePlan(
      planFromDocs(
        new Map([['things', [{ _id: new ObjectId(), name: 'a', qty: new Int32(1), tags: ['x'] }]]]),
      ),
    );
    const good = { _id: new ObjectId('64b7f1c2a9e3d40012345678'), name: 'a', qty: new Int32(2), tags: ['y'] };
    const cases: [string, Buffer][] = [
      ['a key that occurs twice', withDuplicateName(good)],
      ['a string with NUL', bson({ ...good, name: 'a\u0000b' })],
      ['a string that is not UTF-8', invalidUtf8(good)],
      ['an integer-like key (JS puts it first)', bson({ ...good, 7: 'seven' })],
      ['a $-led key', bson({ ...good, $ref: 'x', $id: 1 })],
      ['a truncated document', bson(good).subarray(0, 20)],
      ['a document without _id', bson({ name: 'a' })],
    ];
    it.each(cases)('for %s', (_, bytes) => {
      expect(compare(plan, 'things', bytes).kind).toBe('handed-back');
    });

    it('and takes the same document when nothing is wrong with it', () => {
      expect(compare(plan, 'things', bson(good)).kind).toBe('equal');
    });

    it.each([
      ['a mapped column', { ...good, name: null }, 'name'],
      ['a field without a column', { ...good, other: null }, 'other'],
      ['a sub-document', { ...good, sub: { inner: null } }, 'inner'],
      ['an array column', { ...good, tags: ['x', null] }, '1'],
    ])('for BSON undefined in %s, which the full path keeps', (_, doc, key) => {
      const bytes = withUndefined(doc, key);
      const outcome = compare(plan, 'things', bytes);
      expect(outcome.slowOk).toBe(true);
      expect(outcome.kind).not.toBe('different');
      const result = toRows(plan, 'things', BSON.deserialize(bytes, DESERIALIZE_OPTIONS));
      expect(result.ok && String(result.rows.get('things')![0]!._extra)).toContain('{"$undefined":true}');
    });
  });
});

describe('DocumentEncoder with binary COPY and a text[] column', () => {
  const plan = parsePlan(planFromDocs(new Map([['things', [{ _id: new ObjectId(), tags: ['x', 'y'] }]]])));
  const id = new ObjectId('64b7f1c2a9e3d40012345678');
  it.each([
    ['one string', ['y']],
    ['strings that are not ASCII', ['ü✓ 𝄞', 'plain', '']],
    ['no strings', []],
    ['a null among the strings', ['x', null]],
    ['a number among the strings', ['x', new Int32(1)]],
  ])('writes the rows toRows writes for an array of %s', (_, tags) => {
    expect(compare(plan, 'things', bson({ _id: id, tags }), true).kind).toBe('equal');
  });

  it('hands back a string with NUL and a string that is not UTF-8, which toRows rejects', () => {
    expect(compare(plan, 'things', bson({ _id: id, tags: ['x', 'a\u0000b'] }), true).kind).toBe(
      'handed-back',
    );
    const bytes = bson({ _id: id, tags: ['x', 'aXb'] });
    bytes[bytes.indexOf('aXb') + 1] = 0xff;
    expect(compare(plan, 'things', bytes, true).kind).toBe('handed-back');
  });
});

/** The null under `key` rewritten as BSON undefined (0x06), which `BSON.serialize` never writes. */
function withUndefined(doc: Document, key: string): Buffer {
  const bytes = bson(doc);
  const at = bytes.indexOf(Buffer.from([0x0a, ...Buffer.from(key), 0]));
  if (at < 0) throw new Error(`no null under ${key}`);
  bytes[at] = 0x06;
  return bytes;
}

function bson(doc: Document): Buffer {
  return Buffer.from(BSON.serialize(doc));
}

/** `name` twice: BSON allows it, JSON objects do not. */
function withDuplicateName(doc: Document): Buffer {
  const bytes = bson({ ...doc, name: 'a', nbme: 'b' });
  const at = bytes.indexOf('nbme\u0000');
  bytes[at + 1] = 'a'.charCodeAt(0);
  return bytes;
}

/** `name` holding the byte 0xff, which no UTF-8 text contains. */
function invalidUtf8(doc: Document): Buffer {
  const bytes = bson({ ...doc, name: 'aXb' });
  bytes[bytes.indexOf('aXb') + 1] = 0xff;
  return bytes;
}
