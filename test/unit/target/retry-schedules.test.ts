import { describe, expect, it } from 'vitest';
import { RETRY_SCHEDULES, type RetryClock, retrySchedule, withRetry } from '../../../src/target/retry.js';

const serverError = (code: string) => Object.assign(new Error(`server said ${code}`), { code });

/** A clock whose waits pass instantly and are added up. */
function fakeClock(): RetryClock & { elapsed: number } {
  const clock = {
    elapsed: 0,
    now: () => clock.elapsed,
    sleep: async (ms: number) => {
      clock.elapsed += ms;
    },
  };
  return clock;
}

/** Run `withRetry` over a function that always throws `error`; how many tries, how long. */
async function giveUp(error: Error): Promise<{ tries: number; elapsed: number; thrown: unknown }> {
  const clock = fakeClock();
  let tries = 0;
  const thrown = await withRetry(
    async () => {
      tries++;
      throw error;
    },
    { clock, random: () => 0.5 },
  ).catch((e: unknown) => e);
  return { tries, elapsed: clock.elapsed, thrown };
}

describe('retry schedules by kind of failure', () => {
  it('waits out connection loss, shutdown and start-up for about two minutes', async () => {
    for (const code of ['08006', 'ECONNREFUSED', '57P01', '57P03']) {
      const { tries, elapsed, thrown } = await giveUp(serverError(code));
      expect(retrySchedule(thrown), code).toBe('restart');
      expect(elapsed, code).toBe(RETRY_SCHEDULES.restart.budgetMs);
      expect(elapsed, code).toBe(120_000);
      expect(tries, code).toBeGreaterThan(20);
    }
  });

  it('treats a connection that pg reports broken without a code as connection loss', async () => {
    expect(retrySchedule(new Error('Connection terminated unexpectedly'))).toBe('restart');
    const wrapped = new Error('query failed', {
      cause: new Error('Client has encountered a connection error and is not queryable'),
    });
    expect(retrySchedule(wrapped)).toBe('restart');
    expect(retrySchedule(new Error('syntax error at or near "selec"'))).toBeUndefined();
  });

  it('gives a lost race or a deadlock a few quick tries, seconds not minutes', async () => {
    for (const code of ['40001', '40P01']) {
      const { tries, elapsed } = await giveUp(serverError(code));
      expect(tries, code).toBe(RETRY_SCHEDULES.contention.maxAttempts);
      expect(elapsed, code).toBeLessThan(5_000);
    }
  });

  it('succeeds once the server is back, 90 seconds into a restart', async () => {
    const clock = fakeClock();
    const delays: number[] = [];
    const result = await withRetry(
      async () => {
        if (clock.elapsed < 90_000) throw serverError(clock.elapsed < 80_000 ? 'ECONNREFUSED' : '57P03');
        return 'loaded';
      },
      { clock, onRetry: ({ delayMs }) => delays.push(delayMs) },
    );
    expect(result).toBe('loaded');
    expect(clock.elapsed).toBeGreaterThanOrEqual(90_000);
    // Exponential backoff with full jitter, each wait under its cap.
    expect(Math.max(...delays)).toBeLessThanOrEqual(RETRY_SCHEDULES.restart.maxMs);
  });

  it('grows waits exponentially up to the cap of the schedule', async () => {
    const clock = fakeClock();
    const delays: number[] = [];
    let tries = 0;
    await withRetry(
      async () => {
        if (++tries < 8) throw serverError('08006');
      },
      { clock, random: () => 0.999, onRetry: ({ delayMs }) => delays.push(delayMs) },
    );
    expect(delays).toEqual([199, 399, 799, 1598, 3196, 4995, 4995]);
  });

  it('keeps a separate count per kind, so a deadlock after a restart still gets its tries', async () => {
    const clock = fakeClock();
    const failures = [...Array(12).fill('08006'), ...Array(5).fill('40P01')];
    let tries = 0;
    const result = await withRetry(
      async () => {
        const code = failures[tries++];
        if (code !== undefined) throw serverError(code);
        return tries;
      },
      { clock, random: () => 0.5 },
    );
    expect(result).toBe(18);
  });

  it('stops a long wait for a restart at once when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = withRetry(
      async () => {
        throw serverError('57P03');
      },
      { signal: controller.signal, random: () => 1, baseMs: 60_000, maxMs: 60_000 },
    );
    setTimeout(() => controller.abort(new Error('interrupted')), 50);
    await expect(pending).rejects.toThrow('interrupted');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
