import { MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { gapError } from '../../../src/runtime/gaps.js';
import {
  isTransientError,
  isTransientMongoError,
  withTransientRetry,
} from '../../../src/runtime/retry-policy.js';
import { TargetError } from '../../../src/target/target-error.js';

const serverError = (code: number, codeName: string, errmsg = 'x') =>
  new MongoServerError({ code, codeName, errmsg });

describe('the runtime retry policy', () => {
  it.each([
    ['a serialization failure', { code: '40001' }],
    ['a deadlock victim', { code: '40P01' }],
    ['an admin shutdown', { code: '57P01' }],
    ['a connection exception', { code: '08006' }],
    ['a refused connection', { code: 'ECONNREFUSED' }],
    [
      'a TargetError carrying 40P01',
      new TargetError('deadlock', {
        code: 'TARGET_QUERY_FAILED',
        category: 'environment',
        sqlState: '40P01',
      }),
    ],
    ['a MongoDB network error', new MongoNetworkError('reset')],
    ['no MongoDB server to select', new MongoServerSelectionError('none', { error: undefined } as never)],
    ['a primary stepping down', serverError(189, 'PrimarySteppedDown')],
    ['a shutdown in progress', serverError(91, 'ShutdownInProgress')],
    [
      'a connection the driver could not open, labelled retryable',
      Object.assign(new MongoError('connect ECONNREFUSED 127.0.0.1:1'), {
        errorLabelSet: new Set(['SystemOverloadedError', 'RetryableError']),
      }),
    ],
  ])('retries %s', (_name, error) => {
    expect(isTransientError(error)).toBe(true);
  });

  it.each([
    ['a unique violation', { code: '23505' }],
    ['a bad value', { code: '22P02' }],
    ['a MongoDB duplicate key', serverError(11000, 'DuplicateKey')],
    ['a plain error', new Error('boom')],
  ])('does not retry %s', (_name, error) => {
    expect(isTransientError(error)).toBe(false);
  });

  it('reads a MongoDB error label the server attached', () => {
    const error = new MongoError('try again');
    error.addErrorLabel('RetryableWriteError');
    expect(isTransientMongoError(error)).toBe(true);
  });

  it('retries a transient failure with growing, jittered waits, then succeeds', async () => {
    let calls = 0;
    const started = Date.now();
    const result = await withTransientRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('deadlock'), { code: '40P01' });
        return 'done';
      },
      { baseMs: 20, random: () => 0.99 },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    // Waits of 0.99·20 and 0.99·40 ms: the backoff doubles.
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('rethrows a terminal failure at once, and the last transient one after maxAttempts', async () => {
    let calls = 0;
    const terminal = Object.assign(new Error('dup'), { code: '23505' });
    await expect(
      withTransientRetry(async () => {
        calls++;
        throw terminal;
      }),
    ).rejects.toBe(terminal);
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withTransientRetry(
        async () => {
          calls++;
          throw Object.assign(new Error('gone'), { code: 'ECONNRESET' });
        },
        { maxAttempts: 3, baseMs: 1 },
      ),
    ).rejects.toThrow('gone');
    expect(calls).toBe(3);
  });
});

describe('what a gap keeps of an error', () => {
  it('keeps a MongoDB server error’s code name, never its message, which can quote a value', () => {
    const error = serverError(
      11000,
      'DuplicateKey',
      'E11000 duplicate key error dup key: { email: "ada@example.com" }',
    );
    const kept = gapError(error);
    expect(kept).toEqual({ code: '11000', message: 'MongoServerError: DuplicateKey' });
    expect(JSON.stringify(kept)).not.toContain('ada@example.com');
  });

  it('keeps a TargetError’s SQLSTATE and its message, which Ferry already keeps free of values', () => {
    const error = new TargetError(
      'query on the target failed: duplicate key value violates unique constraint "users_email_key" [23505]',
      {
        code: 'TARGET_QUERY_FAILED',
        category: 'input',
        sqlState: '23505',
      },
    );
    expect(gapError(error)).toEqual({ code: '23505', message: error.message });
  });

  it('keeps only the class name of any other error', () => {
    expect(gapError(new TypeError('value 42 is bad'))).toEqual({ code: 'TypeError', message: 'TypeError' });
  });
});
