import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { marketplaceCounts } from '../../../src/generate/marketplace/generate-marketplace.js';
import { writeMarketplaceArchive } from '../../../src/generate/marketplace/write-marketplace-archive.js';

describe('marketplace archive progress', () => {
  it('reports each collection as it is written, against its exact total, each count once, ending at the total', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-gen-progress-'));
    try {
      const events: { collection: string; written: number; total: number }[] = [];
      await writeMarketplaceArchive(path.join(dir, 'm.archive'), {
        seed: 3,
        scale: 4000,
        onProgress: (p) => events.push(p),
      });
      const counts = marketplaceCounts(4000);
      for (const [name, total] of Object.entries(counts)) {
        const mine = events.filter((e) => e.collection === name);
        expect(mine.every((e) => e.total === total)).toBe(true);
        expect(mine.at(-1)?.written).toBe(total);
        const written = mine.map((e) => e.written);
        expect(written).toEqual([...new Set(written)].sort((a, b) => a - b));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
