// The read ceiling of a live source: the bare driver cursor with `raw: true` over the whole
// collection, counting documents and bytes and nothing else. `plain` asks for no order,
// `sorted` for the `_id` order a resumable read needs, `ranges:N` runs N sorted cursors over
// contiguous `_id` ranges at once (boundaries found before timing).
import type { Document } from 'bson';
import { MongoClient } from 'mongodb';
import { reportCase } from '../harness.js';

const [uri, collectionName, mode] = process.argv.slice(2) as [string, string, string];
const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
await client.connect();
const collection = client.db().collection(collectionName);
const parts = mode.startsWith('ranges:') ? Number(mode.slice('ranges:'.length)) : 1;
const boundaries: unknown[] = [];
if (parts > 1) {
  const count = await collection.countDocuments({});
  for (let i = 1; i < parts; i++) {
    const [found] = await collection
      .find({}, { sort: { _id: 1 }, skip: Math.floor((count * i) / parts), limit: 1, projection: { _id: 1 } })
      .toArray();
    boundaries.push(found!._id);
  }
}
const filters: Document[] = Array.from({ length: parts }, (_, i) => ({
  _id: {
    ...(i > 0 && { $gte: boundaries[i - 1] }),
    ...(i < parts - 1 && { $lt: boundaries[i] }),
  },
}));
const started = performance.now();
let docs = 0;
let bytes = 0;
await Promise.all(
  filters.map(async (filter) => {
    const cursor = collection.find(parts > 1 ? filter : {}, {
      raw: true,
      batchSize: 5000,
      ...(mode !== 'plain' && { sort: { _id: 1 }, hint: { _id: 1 } }),
    });
    for await (const bson of cursor as unknown as AsyncIterable<Uint8Array>) {
      docs++;
      bytes += bson.byteLength;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
await client.close();
if (docs === 0) throw new Error(`nothing read from ${collectionName}`);
reportCase({ docs, bytes, seconds });
