import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { generateMarketplace } from '../../../src/generate/index.js';

// A full collection before and after is the only way to see retained (not merely unswept) memory.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('marketplace generation memory', () => {
  it('does not grow the heap with the number of documents generated (200k documents, discarded)', () => {
    const before = heapAfterGc();
    let seen = 0;
    let peakGrowth = 0;
    for (const c of generateMarketplace({ seed: 7, scale: 200_000 })) {
      for (const doc of c.docs()) {
        if (doc._id !== undefined) seen++;
        // Sample mid-stream too: state held by a generator is released once it finishes.
        if (seen % 50_000 === 0) peakGrowth = Math.max(peakGrowth, heapAfterGc() - before);
      }
    }
    const growth = heapAfterGc() - before;
    expect(seen).toBe(200_000);
    // 200k documents average ~500 BSON bytes; keeping even 5% of them would take well over 8 MB.
    expect(peakGrowth).toBeLessThan(8 * 1024 * 1024);
    expect(growth).toBeLessThan(4 * 1024 * 1024);
  });
});
