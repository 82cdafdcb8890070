import { describe, expect, it } from 'vitest';
import { choiceFlag, countFlag, listFlag } from '../../../src/cli/confirm.js';

describe('flag parsers shared by every command', () => {
  it('reads a comma list, trimming spaces and dropping empty items, and leaves an absent flag absent', () => {
    expect(listFlag(' sales, users ,')).toEqual(['sales', 'users']);
    expect(listFlag(undefined)).toBeUndefined();
  });

  it('reads whole numbers at or above the minimum and refuses anything else as a usage error', () => {
    expect(countFlag('--parallel', '2')).toBe(2);
    expect(countFlag('--max-rejects', '0', 0)).toBe(0);
    expect(countFlag('--parallel', undefined)).toBeUndefined();
    for (const bad of ['0', '1.5', 'two', '-3']) {
      expect(() => countFlag('--parallel', bad)).toThrow(
        expect.objectContaining({ code: 'USAGE_BAD_NUMBER', exitCode: 2 }),
      );
    }
  });

  it("accepts one of the listed words and refuses others with the caller's code, naming the choices", () => {
    expect(choiceFlag('--level', 'deep', ['count', 'deep', 'sample'])).toBe('deep');
    expect(() => choiceFlag('--level', 'deeper', ['count', 'deep', 'sample'], 'VERIFY_BAD_LEVEL')).toThrow(
      expect.objectContaining({
        code: 'VERIFY_BAD_LEVEL',
        exitCode: 2,
        message: '--level must be one of count, deep, sample, not "deeper"',
      }),
    );
  });
});
