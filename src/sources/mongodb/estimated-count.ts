import { type Collection, MongoServerError } from 'mongodb';

/**
 * A collection's document count from its statistics (`$collStats`), without reading a
 * document. The driver's `estimatedDocumentCount` sends `count`, which MongoDB answers from
 * metadata but FerretDB 1.24 answers by reading every document: 13 s for the bench's 20k
 * sales documents against 16 ms for `$collStats`, timed inside every live backfill (it lists
 * the collections first).
 *
 * FerretDB's statistics are PostgreSQL's, which say -1 until the table was first analyzed
 * (a collection just filled); then, and on a server that refuses the stage, the count comes
 * from `estimatedDocumentCount` after all.
 *
 * @example
 * import type { Collection } from 'mongodb';
 * declare const collection: Collection;
 * const count = await estimatedCount(collection);
 */
export async function estimatedCount(collection: Collection): Promise<number> {
  let stats: { count?: unknown }[];
  try {
    stats = await collection.aggregate<{ count?: unknown }>([{ $collStats: { count: {} } }]).toArray();
  } catch (error) {
    if (!(error instanceof MongoServerError)) throw error;
    return collection.estimatedDocumentCount();
  }
  // A sharded collection answers once per shard.
  const counts = stats.map((shard) => Number(shard.count));
  if (counts.length === 0 || counts.some((n) => !Number.isSafeInteger(n) || n < 0))
    return collection.estimatedDocumentCount();
  return counts.reduce((sum, n) => sum + n, 0);
}
