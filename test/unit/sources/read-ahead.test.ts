import { describe, expect, it } from 'vitest';
import { readAhead } from '../../../src/sources/read-ahead.js';

/** Batches 1..n, recording which ones were asked for and whether the iterator was closed. */
function numbered(n: number, failAt?: number) {
  const log = { asked: [] as number[], closed: false };
  async function* batches(): AsyncGenerator<number> {
    try {
      for (let i = 1; i <= n; i++) {
        log.asked.push(i);
        await Promise.resolve();
        if (i === failAt) throw new Error(`batch ${i} failed`);
        yield i;
      }
    } finally {
      log.closed = true;
    }
  }
  return { batches: batches(), log };
}

/** Let every promise that can settle settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('readAhead', () => {
  it('hands over every batch in order', async () => {
    const { batches } = numbered(5);
    const out: number[] = [];
    for await (const batch of readAhead(batches, 2)) out.push(batch);
    expect(out).toEqual([1, 2, 3, 4, 5]);
  });

  it('fetches exactly `depth` batches beyond the one the consumer holds, and no more', async () => {
    const { batches, log } = numbered(10);
    const iterator = readAhead(batches, 1)[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe(1);
    await settle();
    expect(log.asked).toEqual([1, 2]);
    expect((await iterator.next()).value).toBe(2);
    await settle();
    expect(log.asked).toEqual([1, 2, 3]);
    await iterator.return(undefined);
  });

  it('fetches nothing ahead at depth 0', async () => {
    const { batches, log } = numbered(10);
    const iterator = readAhead(batches, 0)[Symbol.asyncIterator]();
    await iterator.next();
    await settle();
    expect(log.asked).toEqual([1]);
    await iterator.return(undefined);
  });

  it('throws a failed fetch ahead only when the consumer reaches it, after the batches before it', async () => {
    const { batches } = numbered(5, 3);
    const out: number[] = [];
    const read = async () => {
      for await (const batch of readAhead(batches, 2)) {
        await settle(); // the failing fetch settles while the consumer still works
        out.push(batch);
      }
    };
    await expect(read()).rejects.toThrow('batch 3 failed');
    expect(out).toEqual([1, 2]);
  });

  it('closes the inner iterator once the fetch in flight settled when the consumer stops early', async () => {
    const { batches, log } = numbered(10);
    for await (const batch of readAhead(batches, 1)) if (batch === 2) break;
    expect(log.closed).toBe(true);
    expect(log.asked).toEqual([1, 2, 3]);
  });
});
