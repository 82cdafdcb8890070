// Baseline: a plain line loop over the same export, parsing each line with JSON.parse
// (mode "json") or the bson package's EJSON.parse (mode "ejson"), nothing else.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { EJSON } from 'bson';
import { reportCase } from '../harness.js';

const [file, mode] = [process.argv[2]!, process.argv[3] ?? 'json'];
const parse = mode === 'ejson' ? (line: string) => EJSON.parse(line, { relaxed: false }) : JSON.parse;
const started = performance.now();
let docs = 0;
let bytes = 0;
for await (const line of createInterface({
  input: createReadStream(file, { highWaterMark: 1 << 20 }),
  crlfDelay: Infinity,
})) {
  if (!line) continue;
  parse(line);
  docs++;
  bytes += Buffer.byteLength(line) + 1;
}
reportCase({ docs, bytes, seconds: (performance.now() - started) / 1000 });
