// One measured case: read every document of a source through Ferry's Source interface.
import { openSource } from '../../src/sources/open.js';
import { reportCase } from '../harness.js';

const location = process.argv[2]!;
const started = performance.now();
const source = await openSource(location);
let docs = 0;
let bytes = 0;
let rejects = 0;
for await (const batch of source.readAll({ batchSize: 1000 })) {
  docs += batch.docs.length;
  bytes += batch.bytes;
  rejects += batch.rejects.length;
}
await source.close();
if (rejects > 0) throw new Error(`${rejects} rejects while reading ${location}`);
reportCase({ docs, bytes, seconds: (performance.now() - started) / 1000 });
