import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportFormat, exportDocuments, readExportManifest } from '../../../src/export/index.js';
import { writeMarketplaceArchive } from '../../../src/generate/index.js';
import type { Plan } from '../../../src/mapping/model.js';
import { migrate } from '../../../src/migrate/migrate.js';
import { openSource } from '../../../src/sources/open.js';
import { openTarget } from '../../../src/target/open-target.js';
import type { TargetDatabase } from '../../../src/target/target-database.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';

/**
 * Against a PostgreSQL server, each export lane reads, rebuilds, encodes and hashes on a
 * worker thread with its own connection. Where the work runs must not show in the result:
 * the files and the manifest are the same bytes as an export on the calling thread.
 */
const url = postgresUrl();
const FORMATS: readonly { format: ExportFormat; gzip: boolean }[] = [
  { format: 'archive', gzip: false },
  { format: 'dump', gzip: true },
  { format: 'ejson', gzip: false },
  { format: 'json', gzip: false },
];
/** Small pages, so every collection spans several pages and checkpoints. */
const PAGE_SIZE = 97;

let dir: string;
let target: string;
let drop: () => Promise<void>;
let db: TargetDatabase;
let plan: Plan;

beforeAll(async () => {
  if (!url) return;
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-export-threads-'));
  const archive = path.join(dir, 'marketplace.archive');
  await writeMarketplaceArchive(archive, { seed: 11, scale: 1200 });
  ({ url: target, drop } = await createTestDatabase('export_threads'));
  db = await openTarget(target);
  const source = await openSource(archive);
  try {
    const result = await migrate({
      source,
      sourceLocation: archive,
      target: db,
      schemas: ['src'],
      migrationsDir: path.join(dir, 'migrations'),
      verify: 'none',
    });
    plan = result.plan;
  } finally {
    await source.close();
  }
}, 300_000);

afterAll(async () => {
  await db?.close();
  await drop?.();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The manifest without its timestamp and paths, and every file's bytes, keyed by collection. */
async function exported(to: string) {
  const manifest = await readExportManifest(to);
  expect(manifest).toBeDefined();
  const { exportedAt: _, collections, ...rest } = manifest!;
  const folder = path.dirname(to);
  const files = await Promise.all(
    collections.map(async (c) => [c.name, await readFile(path.join(folder, c.file))] as const),
  );
  return {
    manifest: { ...rest, collections: collections.map(({ file: _file, ...c }) => c) },
    files: Object.fromEntries(files),
  };
}

describe.skipIf(!url)('ferry export on worker threads', () => {
  it.each(FORMATS)(
    'writes the same $format file (gzip $gzip) and manifest on threads as on the calling thread',
    async ({ format, gzip }) => {
      const label = `${format}${gzip ? '-gz' : ''}`;
      const suffix = format === 'archive' ? '.archive' : '';
      const common = { db, plan, schema: 'src', format, gzip, database: 'shop', pageSize: PAGE_SIZE };
      // One lane: an archive interleaves two lanes' pages in whatever order they commit.
      const here = await exportDocuments({
        ...common,
        to: path.join(dir, `${label}-here${suffix}`),
        parallel: 1,
      });
      let threadPages = 0;
      const threaded = await exportDocuments({
        ...common,
        to: path.join(dir, `${label}-thread${suffix}`),
        parallel: 1,
        targetUrl: target,
        onThreadPage: () => threadPages++,
      });
      expect(here.ok && threaded.ok).toBe(true);
      const documents = here.collections.reduce((n, c) => n + c.exported, 0);
      expect(documents).toBe(1200);
      expect(threadPages).toBeGreaterThanOrEqual(Math.ceil(documents / PAGE_SIZE));
      const [a, b] = await Promise.all([exported(here.to), exported(threaded.to)]);
      expect(b.manifest).toEqual(a.manifest);
      for (const name of Object.keys(a.files))
        expect(Buffer.compare(b.files[name]!, a.files[name]!), `${label} ${name}`).toBe(0);
    },
    120_000,
  );

  it('gives two lanes on threads the same documents and bucket sums per collection as one lane here', async () => {
    const common = {
      db,
      plan,
      schema: 'src',
      format: 'archive' as const,
      database: 'shop',
      pageSize: PAGE_SIZE,
    };
    const here = await exportDocuments({ ...common, to: path.join(dir, 'lanes-here.archive'), parallel: 1 });
    const threaded = await exportDocuments({
      ...common,
      to: path.join(dir, 'lanes-thread.archive'),
      parallel: 2,
      targetUrl: target,
    });
    const sums = async (to: string) =>
      (await readExportManifest(to))!.collections.map(({ name, documents, bucketSums, bucketCounts }) => ({
        name,
        documents,
        bucketSums,
        bucketCounts,
      }));
    expect(await sums(threaded.to)).toEqual(await sums(here.to));
  }, 120_000);

  it('carries on from the last page on the calling thread when an export thread cannot connect', async () => {
    const unreachable = new URL(target);
    unreachable.pathname = '/ferry_no_such_database';
    const common = { db, plan, schema: 'src', format: 'ejson' as const, pageSize: PAGE_SIZE, parallel: 1 };
    const here = await exportDocuments({ ...common, to: path.join(dir, 'fallback-here') });
    let threadPages = 0;
    const fallen = await exportDocuments({
      ...common,
      to: path.join(dir, 'fallback-thread'),
      targetUrl: unreachable.toString(),
      onThreadPage: () => threadPages++,
    });
    expect(threadPages).toBe(0);
    expect(fallen.ok).toBe(true);
    const [a, b] = await Promise.all([exported(here.to), exported(fallen.to)]);
    expect(b.manifest).toEqual(a.manifest);
    for (const name of Object.keys(a.files)) expect(Buffer.compare(b.files[name]!, a.files[name]!)).toBe(0);
  }, 120_000);
});
