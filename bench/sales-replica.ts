import { type Document, ObjectId } from 'bson';
import { openSource } from '../src/sources/open.js';

/**
 * The 5000 real sales documents from ../shared/datasets, replicated to `count` documents
 * with fresh, deterministic ObjectIds (time-ordered, so they sort like real inserts).
 * Real shapes, real Decimal128 prices, any size.
 */
export async function* salesReplica(archive: string, count: number): AsyncGenerator<Document> {
  const originals: Document[] = [];
  const source = await openSource(archive);
  for await (const batch of source.readAll()) originals.push(...batch.docs);
  await source.close();
  if (originals.length === 0) throw new Error(`no documents in ${archive}`);
  const id = Buffer.alloc(12);
  for (let i = 0; i < count; i++) {
    id.writeUInt32BE(1_600_000_000 + Math.floor(i / 1000), 0);
    id.writeUInt32BE(0, 4);
    id.writeUInt32BE(i, 8);
    yield { ...originals[i % originals.length]!, _id: new ObjectId(Buffer.from(id)) };
  }
}
