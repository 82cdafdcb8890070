import { describe, expect, it } from 'vitest';
import { arrayLiteral, encodeCopyField, encodeCopyLine } from '../../../src/copy/copy-text.js';
import { copyStatement, encodeCopyPieces } from '../../../src/target/copy-stream.js';
import { TargetError } from '../../../src/target/target-error.js';

describe('COPY text encoding', () => {
  it('writes NULL as \\N and escapes backslash, tab, newline and carriage return', () => {
    expect(encodeCopyField(null)).toBe('\\N');
    expect(encodeCopyField('\\N')).toBe('\\\\N');
    expect(encodeCopyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(encodeCopyField('ünï 🚀')).toBe('ünï 🚀');
  });

  it('writes booleans as t/f, numbers as digits and bytea as doubled-backslash hex', () => {
    expect([encodeCopyField(true), encodeCopyField(false), encodeCopyField(-42)]).toEqual(['t', 'f', '-42']);
    expect(encodeCopyField(Buffer.from([0, 0x5c, 0xff]))).toBe('\\\\x005cff');
    expect(encodeCopyField(Buffer.alloc(0))).toBe('\\\\x');
  });

  it('quotes array elements that array_in would otherwise misread', () => {
    expect(arrayLiteral([])).toBe('{}');
    expect(arrayLiteral(['a', null, '', 'NULL', 'null', 'x y', 'a"b', 'c\\d', '{}', 'e,f'])).toBe(
      '{a,NULL,"","NULL","null","x y","a\\"b","c\\\\d","{}","e,f"}',
    );
    expect(arrayLiteral([1, null, true, Buffer.from([1])])).toBe('{1,NULL,t,"\\\\x01"}');
    expect(arrayLiteral([['a'], ['b']])).toBe('{{a},{b}}');
  });

  it('escapes an array literal for COPY after building it', () => {
    expect(encodeCopyField(['tab\there', 'b\\s'])).toBe('{"tab\\there","b\\\\\\\\s"}');
  });

  it('joins fields by tab in the order of the columns and ends the line', () => {
    expect(encodeCopyLine({ b: 'x', a: 1, c: null }, ['a', 'b', 'c'])).toBe('1\tx\t\\N\n');
  });

  it('refuses a row without a value for a column rather than writing NULL', () => {
    expect(() => encodeCopyLine({ a: 1 }, ['a', 'b'])).toThrow('no value for column "b"');
  });
});

describe('COPY statement and pieces', () => {
  it('quotes every identifier', () => {
    expect(copyStatement({ schema: 'my "s"', name: 'T' }, ['a b', 'id'], 'STDIN')).toBe(
      'COPY "my ""s"""."T" ("a b", "id") FROM STDIN',
    );
  });

  it('hands over whole lines in pieces and counts them', async () => {
    const progress = { rows: 0 };
    const batches = [[{ id: 1 }, { id: 2 }], [], [{ id: 3 }]];
    const pieces: string[] = [];
    for await (const piece of encodeCopyPieces({ schema: 's', name: 't' }, ['id'], batches, progress, 2))
      pieces.push(piece);
    expect(pieces).toEqual(['1\n', '2\n', '3\n']);
    expect(progress.rows).toBe(3);
  });

  it('names the table and the row that lacks a column', async () => {
    const pieces = encodeCopyPieces({ schema: 's', name: 't' }, ['id'], [[{ id: 1 }, {}]], { rows: 0 });
    const error = await (async () => {
      for await (const _ of pieces);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).line).toBe(2);
    expect((error as TargetError).message).toContain('"s"."t"');
  });
});
