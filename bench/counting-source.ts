import type { Source } from '../src/sources/types.js';

/** The source, counting the BSON bytes it hands over, so MB/s means the same in every case. */
export function counting(inner: Source): Source & { bytes: number } {
  const wrapped = {
    kind: inner.kind,
    location: inner.location,
    bytes: 0,
    listCollections: () => inner.listCollections(),
    countDocuments: (collection: string) => inner.countDocuments(collection),
    read: async function* (collection: string, options?: Parameters<Source['read']>[1]) {
      for await (const batch of inner.read(collection, options)) {
        wrapped.bytes += batch.bytes;
        yield batch;
      }
    },
    readAll: (options?: Parameters<Source['readAll']>[0]) => inner.readAll(options),
    close: () => inner.close(),
  };
  return wrapped;
}
