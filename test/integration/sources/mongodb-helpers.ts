import type { Document } from 'bson';
import { type Collection, MongoClient } from 'mongodb';
import type { Source, SourceBatch } from '../../../src/sources/types.js';

/** A database name no other test file (or run) uses. */
export function uniqueDatabase(prefix: string): string {
  return `ferry_${prefix}_${process.pid}_${Date.now().toString(36)}`;
}

/** `mongodb://host:port/<database>` from the server URL the services give. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A plain driver client for seeding data (the source under test never writes). */
export function seedClient(url: string): MongoClient {
  return new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
}

/** Every batch of an iterable, in order. */
export async function collect(batches: AsyncIterable<SourceBatch>): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

/** Every document of an iterable, in order. */
export async function readDocs(source: Source, collection: string, batchSize = 1000): Promise<Document[]> {
  return (await collect(source.read(collection, { batchSize }))).flatMap((b) => [...b.docs]);
}

/** Test documents may have an `_id` of any BSON type; the driver's default typing says ObjectId. */
export type AnyIdDoc = { _id: unknown; [field: string]: unknown };

/** A collection to seed, typed for `_id`s of any BSON type. */
export function seedCollection(client: MongoClient, database: string, name: string): Collection<AnyIdDoc> {
  return client.db(database).collection<AnyIdDoc>(name);
}
