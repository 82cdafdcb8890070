// Gunzip alone: the .archive.gz read through zlib at a given output chunk size, consumed and
// dropped, so the cost of decompressing is measured apart from everything that follows it.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { reportCase } from '../harness.js';

const [file, chunkSize, docs] = process.argv.slice(2) as [string, string, string];
const started = performance.now();
let bytes = 0;
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
  createGunzip({ chunkSize: Number(chunkSize) }),
))
  bytes += (chunk as Buffer).length;
const cpu = process.cpuUsage();
reportCase({
  docs: Number(docs),
  bytes,
  seconds: (performance.now() - started) / 1000,
  extra: { cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100 },
});
