import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Binary,
  BSON,
  BSONRegExp,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveSource } from '../../../src/sources/archive/archive-source.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openDumpSource } from '../../../src/sources/dump/dump-source.js';
import { writeDumpDirectory } from '../../../src/sources/dump/write-dump-directory.js';
import type { Source } from '../../../src/sources/types.js';

const everyType: Document = {
  _id: new ObjectId('5bd761dcae323e45a93ccfef'),
  decimal: Decimal128.fromString('1234567890123456789012345678901234'),
  tinyDecimal: Decimal128.fromString('-0.000000000000000000000000000000001'),
  long: Long.fromString('9007199254740993'),
  int: new Int32(-7),
  double: new Double(5),
  date: new Date('2024-02-29T12:34:56.789Z'),
  binary: new Binary(Buffer.from([1, 2, 3, 255]), 0x80),
  uuid: new Binary(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), 4),
  timestamp: new Timestamp({ t: 1_700_000_000, i: 7 }),
  regex: new BSONRegExp('^a.*z$', 'imx'),
  min: new MinKey(),
  max: new MaxKey(),
  nothing: null,
  text: 'héllo 😀',
  flag: true,
  nested: { list: [new Int32(1), [new Double(2.5), { deep: 'x' }], []], empty: {} },
};
const withoutNull: Document = { _id: 'string id', other: new Int32(1) };

async function readEverything(source: Source): Promise<Document[]> {
  const docs: Document[] = [];
  for await (const batch of source.readAll()) {
    expect(batch.rejects).toEqual([]);
    docs.push(...batch.docs);
  }
  return docs;
}

describe('every BSON type survives our writers and readers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-types-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const writers = {
    'a dump directory': async (gzip: boolean) => {
      const root = path.join(dir, `dump-${gzip}`);
      await writeDumpDirectory(root, 'shop', [{ name: 'things', docs: [everyType, withoutNull] }], { gzip });
      return openDumpSource(root);
    },
    'an archive': async (gzip: boolean) => {
      const file = path.join(dir, `things-${gzip}.archive`);
      await writeArchive(file, 'shop', [{ name: 'things', docs: [everyType, withoutNull] }], { gzip });
      return openArchiveSource(file);
    },
  };

  for (const [kind, write] of Object.entries(writers)) {
    for (const gzip of [false, true]) {
      it(`reads back ${kind}${gzip ? ' (gzipped)' : ''} byte for byte, keeping number types and missing vs null`, async () => {
        const source = await write(gzip);
        const [first, second] = await readEverything(source);
        await source.close();
        expect(Buffer.from(BSON.serialize(first!))).toEqual(Buffer.from(BSON.serialize(everyType)));
        expect(Buffer.from(BSON.serialize(second!))).toEqual(Buffer.from(BSON.serialize(withoutNull)));
        expect(first!.decimal).toBeInstanceOf(Decimal128);
        expect(first!.decimal.toString()).toBe('1234567890123456789012345678901234');
        expect(first!.long).toBeInstanceOf(Long);
        expect(first!.long.toString()).toBe('9007199254740993');
        expect(first!.int).toBeInstanceOf(Int32);
        expect(first!.double).toBeInstanceOf(Double);
        expect(first!.binary.sub_type).toBe(0x80);
        expect(first!.timestamp).toBeInstanceOf(Timestamp);
        expect(first!.regex.options).toBe('imx');
        expect(first!.min).toBeInstanceOf(MinKey);
        expect(first!.max).toBeInstanceOf(MaxKey);
        expect('nothing' in first!).toBe(true);
        expect(first!.nothing).toBeNull();
        expect('nothing' in second!).toBe(false);
      });
    }
  }
});
