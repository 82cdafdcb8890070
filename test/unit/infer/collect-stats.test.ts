import { type Document, Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { type CollectProgress, collectStats } from '../../../src/infer/index.js';
import type { CollectionInfo, ReadOptions, Source, SourceBatch } from '../../../src/sources/types.js';
import { collectionOf, fieldOf } from './helpers.js';

/**
 * A real, minimal implementation of the Source contract over arrays (not a mock: it honours
 * batch size, `only`, and the signal exactly as the contract says).
 */
class ArraySource implements Source {
  readonly kind = 'json' as const;
  readonly location = 'memory';
  readonly reads: string[] = [];
  constructor(private readonly data: Readonly<Record<string, readonly Document[]>>) {}
  async listCollections(): Promise<readonly CollectionInfo[]> {
    return Object.keys(this.data)
      .sort()
      .map((name) => ({ name, indexes: [] }));
  }
  async countDocuments(collection: string): Promise<number> {
    return this.data[collection]?.length ?? 0;
  }
  async *read(collection: string, options: ReadOptions = {}): AsyncIterable<SourceBatch> {
    const docs = this.data[collection] ?? [];
    const size = options.batchSize ?? 1000;
    for (let i = 0; i < docs.length; i += size) {
      options.signal?.throwIfAborted();
      this.reads.push(`${collection}@${i}`);
      const batch = docs.slice(i, i + size);
      yield {
        collection,
        docs: batch,
        rejects: [],
        position: { kind: 'offset', offset: i + batch.length, index: i },
        bytes: batch.length * 10,
      };
    }
  }
  async *readAll(
    options: ReadOptions & { readonly only?: readonly string[] } = {},
  ): AsyncIterable<SourceBatch> {
    for (const { name } of await this.listCollections()) {
      if (options.only && !options.only.includes(name)) continue;
      yield* this.read(name, options);
    }
  }
  async close(): Promise<void> {}
}

function source(): ArraySource {
  const users = Array.from({ length: 100 }, (_, i) => ({ _id: new ObjectId(), n: new Int32(i) }));
  const orders = users.map((u, i) => ({
    _id: new ObjectId(),
    userId: u._id,
    ...(i >= 90 ? { late: true } : {}),
  }));
  return new ArraySource({ users, orders, empty: [] });
}

describe('collectStats', () => {
  it('reads every document by default and reports progress per batch', async () => {
    const progress: CollectProgress[] = [];
    const stats = await collectStats(source(), { batchSize: 40, onProgress: (p) => progress.push(p) });
    const snapshot = stats.snapshot();
    expect(snapshot.collections.map((c) => [c.name, c.documents, c.complete])).toEqual([
      ['empty', 0, true],
      ['orders', 100, true],
      ['users', 100, true],
    ]);
    expect(progress.at(-1)).toEqual({ collection: 'users', read: 100, analysed: 100, bytes: 1000 });
    expect(snapshot.references.map((r) => [r.name, r.verdict])).toEqual([['userId', 'reference']]);
  });

  it('takes the first N documents and stops reading early in first mode', async () => {
    const src = source();
    const stats = await collectStats(src, { sample: 30, sampleMode: 'first', batchSize: 20 });
    const orders = collectionOf(stats.snapshot(), 'orders');
    expect([orders.documents, orders.complete, orders.idsComplete]).toEqual([30, false, false]);
    // The fields only the newest documents have are invisible to a first-N sample.
    expect(orders.fields.map((f) => f.name)).not.toContain('late');
    expect(src.reads.filter((r) => r.startsWith('orders'))).toEqual(['orders@0', 'orders@20']);
    const target = stats.snapshot().references[0]?.kinds[0]?.targets[0];
    expect(target?.targetComplete).toBe(false);
  });

  it('draws a seeded random sample that still sees every _id', async () => {
    const src = source();
    const a = await collectStats(src, { sample: 50, seed: 3 });
    const b = await collectStats(src, { sample: 50, seed: 3 });
    expect(JSON.stringify(a.snapshot())).toBe(JSON.stringify(b.snapshot()));
    const snapshot = a.snapshot();
    const users = collectionOf(snapshot, 'users');
    expect([users.documents, users.complete, users.idsComplete, users.ids.distinct]).toEqual([
      50,
      false,
      true,
      100,
    ]);
    // Sampled orders reference users that were not sampled, yet every reference matches.
    expect(snapshot.references[0]?.kinds[0]?.targets[0]).toMatchObject({ collection: 'users', overlap: 1 });
    expect(fieldOf(snapshot, 'users', 'n').numbers?.max).not.toBeNull();
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user pressed ctrl-c'));
    await expect(collectStats(source(), { signal: controller.signal })).rejects.toThrow(
      'user pressed ctrl-c',
    );
  });

  it('rejects a sample size that is not a positive whole number as a usage error', async () => {
    await expect(collectStats(source(), { sample: 0 })).rejects.toMatchObject({
      code: 'INFER_BAD_SAMPLE',
      exitCode: 2,
    });
  });
});
