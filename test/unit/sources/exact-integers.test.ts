import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExactJson, protectLargeIntegers } from '../../../src/sources/json/exact-integers.js';

/** What `JSON.parse(protectLargeIntegers(text))` gives: the value, or the error's class and message. */
function rewrittenParse(text: string): unknown {
  try {
    return { value: JSON.parse(protectLargeIntegers(text)) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function exactParse(text: string): unknown {
  try {
    return { value: parseExactJson(text) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** JSON texts rich in long digit runs, in strings and as numbers, valid and not. */
const digitRun = fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String);
const pieces = fc.array(
  fc.oneof(
    digitRun,
    digitRun.map((d) => `"${d}"`),
    digitRun.map((d) => `"5f5e${d.replace('-', '')}"`),
    fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      ' ',
      '\n',
      '"a":',
      '-',
      '.5',
      'e3',
      'x',
      '"',
      '\\"',
      'true',
    ),
  ),
  { maxLength: 12 },
);

describe('parseExactJson', () => {
  it('gives what JSON.parse of the rewritten text gives, value or error, for any text', () => {
    fc.assert(
      fc.property(pieces, (parts) => {
        const text = parts.join('');
        expect(exactParse(text)).toEqual(rewrittenParse(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads big integer literals exactly and leaves digit runs inside strings alone', () => {
    const text = '{"_id":"5f5e10000000000000000000","n":12345678901234567890,"m":[ -9223372036854775808]}';
    expect(exactParse(text)).toEqual(rewrittenParse(text));
    const parsed = parseExactJson(text) as { _id: string; n: string };
    expect(parsed._id).toBe('5f5e10000000000000000000');
    expect(parsed.n.endsWith(':12345678901234567890')).toBe(true);
  });

  it('fails on invalid JSON with the error the rewritten text gives', () => {
    for (const text of ['{"_id":"5f5e10000000000000000000",}', '{"a":x12345678901234567}', '[1,']) {
      expect(exactParse(text)).toEqual(rewrittenParse(text));
      expect(exactParse(text)).toHaveProperty('error');
    }
  });
});
