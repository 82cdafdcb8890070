import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readJsonArray } from '../../../src/sources/ejson/json-array-reader.js';
import { readJsonLines } from '../../../src/sources/ejson/json-lines-reader.js';
import type { RawRecord } from '../../../src/sources/ejson/raw-records.js';

async function* chunked(bytes: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let from = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    yield bytes.subarray(from, cut);
    from = cut;
  }
  yield bytes.subarray(from);
}

async function records(iterable: AsyncIterable<RawRecord[]>): Promise<RawRecord[]> {
  const all: RawRecord[] = [];
  for await (const batch of iterable) all.push(...batch);
  return all;
}

const start = { offset: 0, line: 1, maxRecordBytes: 1 << 20, file: 'f.json', collection: 'f' };
const element = fc.oneof(
  fc.json(),
  fc.constantFrom('"a]b,\\"c\\\\"', '{"k":"]}\\u005d","x":[1,{"y":"\\\\"}]}', '[]', '{}', '-1.5e3', 'null'),
);

describe('Extended JSON record readers', () => {
  it('find every element of a JSON array, whatever the whitespace and chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(element, { maxLength: 8 }),
        fc.constantFrom('', ' ', '\n', ' \r\n\t'),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (elements, space, cuts) => {
          const text = `${space}[${space}${elements.join(`${space},${space}`)}${space}]${space}`;
          const bytes = Buffer.from(text);
          const found = await records(readJsonArray(chunked(bytes, cuts), start));
          expect(found.map((r) => r.bytes.toString())).toEqual(elements);
          for (const r of found) {
            expect(bytes.subarray(r.offset, r.end).toString()).toBe(r.bytes.toString());
            expect(r.line).toBe(text.slice(0, r.offset).split('\n').length);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('split lines at byte offsets across chunk boundaries, skipping blank lines and CRs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.json(), fc.constant(''), fc.constant('{"é":"ü"}')), { maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (lines, crlf, cuts) => {
          const text = lines.join(crlf ? '\r\n' : '\n');
          const bytes = Buffer.from(text);
          const found = await records(readJsonLines(chunked(bytes, cuts), start));
          expect(found.map((r) => r.bytes.toString())).toEqual(lines.filter((l) => l !== ''));
          for (const r of found) {
            expect(bytes.subarray(r.offset, r.offset + r.bytes.length).toString()).toBe(r.bytes.toString());
            expect(r.line).toBe(
              text.slice(0, Buffer.from(text).subarray(0, r.offset).toString().length).split('\n').length,
            );
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuse text after the closing bracket and garbage between elements', async () => {
    const read = (text: string) => records(readJsonArray(chunked(Buffer.from(text), []), start));
    await expect(read('[{}] x')).rejects.toMatchObject({ code: 'SOURCE_BAD_JSON_ARRAY' });
    await expect(read('[{} {}]')).rejects.toMatchObject({
      code: 'SOURCE_BAD_JSON_ARRAY',
      where: { offset: 4 },
    });
    await expect(read('[{"a":"]')).rejects.toMatchObject({ code: 'SOURCE_TRUNCATED' });
    await expect(read('[1')).rejects.toMatchObject({ code: 'SOURCE_TRUNCATED' });
  });
});
