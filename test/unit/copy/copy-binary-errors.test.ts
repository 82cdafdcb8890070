import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binaryColumnTypes, writeBinaryRow } from '../../../src/copy/copy-binary.js';
import { TextSink } from '../../../src/copy/text-sink.js';
import { FerryError } from '../../../src/core/errors.js';

/**
 * A row value without a binary form is a bug upstream, and its message reaches the summary
 * and the log: the value itself must stay out unless FERRY_DEBUG asks for it, as for a
 * server's COPY error on the text path.
 */
const SECRET = 'card-4111-1111-1111-1111';

function failure(pgType: string, value: string): FerryError {
  const types = binaryColumnTypes([pgType])!;
  try {
    writeBinaryRow(new TextSink(), { v: value }, ['v'], types);
  } catch (error) {
    return error as FerryError;
  }
  throw new Error(`${pgType} accepted ${value}`);
}

describe('binary COPY errors for a value with no binary form', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.FERRY_DEBUG;
    delete process.env.FERRY_DEBUG;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.FERRY_DEBUG;
    else process.env.FERRY_DEBUG = saved;
  });

  it.each([
    ['uuid', 'a uuid row value'],
    ['timestamptz', 'a timestamptz row value'],
    ['numeric', 'positional numeric text'],
  ])('a bad %s value is named by its type, never by its content', (pgType, what) => {
    const error = failure(pgType, SECRET);
    expect(error).toBeInstanceOf(FerryError);
    expect(error.code).toBe('TARGET_BAD_ROW_VALUE');
    expect(error.message).toContain(`a row value is not ${what}`);
    expect(error.message).toContain('FERRY_DEBUG=1');
    expect(error.message).not.toContain('4111');
  });

  it('names the value when FERRY_DEBUG is set', () => {
    process.env.FERRY_DEBUG = '1';
    expect(failure('uuid', SECRET).message).toContain(`"${SECRET}" is not a uuid row value`);
  });
});
