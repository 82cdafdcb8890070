// Baseline: the plainest streaming loop over the same .bson bytes — split on length
// prefixes and BSON.deserialize with the same options Ferry uses. No checks, no batches.
import { createReadStream } from 'node:fs';
import { BSON } from 'bson';
import { reportCase } from '../harness.js';

const file = process.argv[2]!;
const started = performance.now();
let pending: Buffer = Buffer.alloc(0);
let docs = 0;
let bytes = 0;
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
  pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : Buffer.from(chunk as Buffer);
  let at = 0;
  while (pending.length - at >= 4) {
    const size = pending.readInt32LE(at);
    if (pending.length - at < size) break;
    BSON.deserialize(pending.subarray(at, at + size), { promoteValues: false, bsonRegExp: true });
    at += size;
    docs++;
    bytes += size;
  }
  pending = pending.subarray(at);
}
reportCase({ docs, bytes, seconds: (performance.now() - started) / 1000 });
