import { describe, expect, it } from 'vitest';
import { errorCode, isRetryable, RETRYABLE_SQLSTATES, withRetry } from '../../../src/target/retry.js';
import { copyError, queryError, safeServerMessage, TargetError } from '../../../src/target/target-error.js';

const serverError = (code: string, extra: Record<string, string> = {}) =>
  Object.assign(new Error(extra.message ?? `server said ${code}`), { code, ...extra });

describe('which failures are retryable', () => {
  it('retries serialization failures, deadlocks, connection exceptions and restarts', () => {
    for (const code of ['40001', '40P01', '08006', '08000', '57P01', '53300', '55P03', 'ECONNRESET'])
      expect(isRetryable(serverError(code)), code).toBe(true);
    expect(RETRYABLE_SQLSTATES.size).toBeGreaterThan(5);
  });

  it('does not retry constraint violations, bad input or syntax errors', () => {
    for (const code of ['23505', '23514', '22P02', '42601', '42P01'])
      expect(isRetryable(serverError(code)), code).toBe(false);
    expect(isRetryable(new Error('no code'))).toBe(false);
  });

  it('finds the SQLSTATE on a TargetError and through a cause chain', () => {
    expect(errorCode(queryError(serverError('40001')))).toBe('40001');
    expect(errorCode(new Error('outer', { cause: serverError('40P01') }))).toBe('40P01');
  });
});

describe('withRetry', () => {
  it('retries a 40001 until it succeeds, with waits growing within the full-jitter bound', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 4) throw serverError('40001');
        return 'ok';
      },
      { baseMs: 10, random: () => 0.999, onRetry: ({ delayMs }) => delays.push(delayMs) },
    );
    expect([result, calls]).toEqual(['ok', 4]);
    expect(delays).toEqual([9, 19, 39]);
  });

  it('gives up on a 23505 at once', async () => {
    let calls = 0;
    const error = await withRetry(async () => {
      calls++;
      throw serverError('23505');
    }).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('23505');
    expect(calls).toBe(1);
  });

  it('rethrows the last error after maxAttempts', async () => {
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        throw serverError('40P01');
      },
      { maxAttempts: 3, baseMs: 0 },
    ).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('40P01');
    expect(calls).toBe(3);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = withRetry(
      async () => {
        throw serverError('40001');
      },
      { signal: controller.signal, baseMs: 60_000, random: () => 1 },
    );
    controller.abort(new Error('user pressed ctrl-c'));
    await expect(pending).rejects.toThrow('user pressed ctrl-c');
  });
});

describe('target errors keep row values out', () => {
  it('drops the quoted input of a data exception', () => {
    expect(
      safeServerMessage({ code: '22P02', message: 'invalid input syntax for type integer: "secret"' }),
    ).toBe('invalid input syntax for type integer');
  });

  it('names table, line and column of a COPY failure from its context, and leaves out detail', () => {
    const cause = serverError('22P02', {
      message: 'invalid input syntax for type integer: "secret"',
      where: 'COPY t, line 12, column qty: "secret"',
      detail: 'secret detail',
    });
    const error = copyError(cause, { schema: 'public', name: 't' }, 100, false);
    expect(error).toBeInstanceOf(TargetError);
    expect([error.line, error.column, error.sqlState, error.exitCode]).toEqual([112, 'qty', '22P02', 2]);
    expect(error.message).toContain('"public"."t"');
    expect(`${error.message} ${String(error.cause)} ${JSON.stringify(error.cause)}`).not.toContain('secret');
  });

  it('keeps everything when debugging', () => {
    const cause = serverError('23505', { detail: 'Key (id)=(7) already exists.', where: 'COPY t, line 3' });
    expect(copyError(cause, { schema: 'public', name: 't' }, 0, true).message).toContain('(id)=(7)');
  });

  it('classes connection loss as environment and a lost race as transient', () => {
    expect(queryError(serverError('08006')).exitCode).toBe(3);
    expect(queryError(serverError('40001')).transient).toBe(true);
    expect(queryError(serverError('23505')).transient).toBe(false);
  });
});
