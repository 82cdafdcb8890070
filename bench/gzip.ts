import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { GUNZIP_CHUNK_BYTES } from '../src/sources/files/open-input.js';
import { freshDatabase } from './backfill-db.js';
import { type BackfillInput, marketplaceInput, readPlan, salesInput } from './backfill-inputs.js';
import {
  type BenchReport,
  type BenchRow,
  type CaseResult,
  machine,
  runCase,
  thousands,
  toRow,
} from './harness.js';

/** Sizes of the gzip bench: replicated sales and marketplace documents. */
export interface GzipBenchSizes {
  readonly sales: number;
  readonly docs: number;
}

const ZLIB_DEFAULT_CHUNK = 16 * 1024;

/**
 * What gzip costs the backfill, which is what users have (`mongodump --archive --gzip`): per
 * input, Ferry's backfill from the uncompressed archive and from the same archive gzipped,
 * one after the other in fresh databases; and gunzip alone at zlib's default output chunk
 * and at Ferry's, to show what the larger chunk saves.
 */
export async function benchGzip(salesArchive: string, sizes: GzipBenchSizes): Promise<BenchReport> {
  const loadAtStart = loadavg().map((l) => l.toFixed(2));
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const inputs: [BackfillInput, number][] = [
    [await salesInput(salesArchive, sizes.sales), sizes.sales],
    [await marketplaceInput(sizes.docs), sizes.docs],
  ];
  for (const [input, size] of inputs) {
    const tag = `${input.label} ${thousands(size)}`;
    const gzipped = await gzippedCopy(input.archive);
    const plan = await readPlan(input.plan);
    const backfill = async (archive: string, name: string): Promise<CaseResult> => {
      const db = await freshDatabase(`gzip_${input.label}`, plan);
      process.env.FERRY_BENCH_TARGET_URL = db.url;
      try {
        console.error(`bench: ${name}…`);
        return await runCase('cases/backfill-ferry.ts', [archive, input.plan, '2']);
      } finally {
        delete process.env.FERRY_BENCH_TARGET_URL;
        await db.drop();
      }
    };
    const plainName = `(p) Ferry backfill from the uncompressed archive (${tag})`;
    const plain = await backfill(input.archive, plainName);
    const zipped = await backfill(gzipped, `(z) Ferry backfill from the .archive.gz (${tag})`);
    const gunzip = async (chunk: number) => {
      console.error(`bench: gunzip alone, ${chunk / 1024} KiB chunks (${tag})…`);
      return runCase('cases/gunzip-read.ts', [gzipped, String(chunk), String(plain.docs)]);
    };
    const smallChunks = await gunzip(ZLIB_DEFAULT_CHUNK);
    const ferryChunks = await gunzip(GUNZIP_CHUNK_BYTES);
    const p = { name: 'p', result: plain };
    const compression = (await stat(input.archive)).size / (await stat(gzipped)).size;
    rows.push(
      toRow(plainName, plain),
      toRow(`(z) Ferry backfill from the .archive.gz (${tag})`, zipped, p),
      toRow(`gunzip alone, zlib's default ${ZLIB_DEFAULT_CHUNK / 1024} KiB chunks (${tag})`, smallChunks, p),
      toRow(`gunzip alone, Ferry's ${GUNZIP_CHUNK_BYTES / 1024} KiB chunks (${tag})`, ferryChunks, p),
    );
    notes.push(
      `${tag} (gzip compresses this archive ${compression.toFixed(1)}:1): from the .archive.gz the backfill takes ${(zipped.seconds / plain.seconds).toFixed(2)} × the time from the uncompressed archive (${zipped.seconds.toFixed(1)} s against ${plain.seconds.toFixed(1)} s). Gunzip alone: ${smallChunks.seconds.toFixed(2)} s wall and ${smallChunks.extra?.cpuSeconds} s CPU at ${ZLIB_DEFAULT_CHUNK / 1024} KiB chunks, ${ferryChunks.seconds.toFixed(2)} s and ${ferryChunks.extra?.cpuSeconds} s at ${GUNZIP_CHUNK_BYTES / 1024} KiB.`,
    );
  }
  notes.push(
    "Node's zlib streams inflate on the libuv thread pool already, so the decompression itself is off the main thread; what stays on it is one callback per output chunk, which the larger chunk makes 16 × rarer. A worker thread of our own would only add a copy.",
    'The replicated sales repeat 5000 real documents, so they compress better than most real data. Where gunzip alone takes a second or two of a backfill of a minute or more, the difference between (p) and (z) is within what the shared machine varies from one case to the next (see the load average).',
    `Load average (1, 5, 15 min) at the start: ${loadAtStart.join(', ')}; at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}.`,
  );
  return {
    name: 'gzip',
    title: 'Backfill from a gzipped archive',
    description:
      "Ferry's `backfill()` (parallel 2, defaults, after-load DDL included) from the same documents as an uncompressed mongodump archive (p) and gzipped at zlib's default level as `mongodump --archive --gzip` writes it (z), each into a fresh database with the before-load DDL of the plan inferred once per input, one after the other in the same run. MB/s counts the BSON bytes of the documents (the decompressed bytes for gunzip alone). Ratio: against (p) in docs/s.",
    ranAt: new Date().toISOString(),
    machine: machine(),
    rows,
    notes,
  };
}

/** `<archive>.gz` beside the archive, made once (reproducible from it). */
async function gzippedCopy(archive: string): Promise<string> {
  const gzipped = `${archive}.gz`;
  if (existsSync(gzipped)) return gzipped;
  await pipeline(createReadStream(archive), createGzip(), createWriteStream(`${gzipped}.partial`));
  await rename(`${gzipped}.partial`, gzipped);
  return gzipped;
}
