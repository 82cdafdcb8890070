import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { encodeCopyLine } from '../src/copy/copy-text.js';
import { writeMarketplaceArchive } from '../src/generate/marketplace/write-marketplace-archive.js';
import { inferMapping } from '../src/infer/infer-mapping.js';
import { type Plan, physicalColumns } from '../src/mapping/model.js';
import { toRows } from '../src/mapping/to-rows.js';
import { parsePlan } from '../src/mapping/validate-plan.js';
import { writeArchive } from '../src/sources/archive/write-archive.js';
import { openSource } from '../src/sources/open.js';
import { workDir } from './harness.js';
import { salesReplica } from './sales-replica.js';

/** One generated backfill input: an uncompressed archive and the plan every case uses. */
export interface BackfillInput {
  readonly label: string;
  readonly archive: string;
  readonly plan: string;
}

/** Ferry's final rows of an input as one COPY text file per table, rendered ahead of timing. */
export interface RenderedCopy {
  readonly docs: number;
  /** BSON bytes of the documents the files hold, so MB/s means the same in every case. */
  readonly bytes: number;
  /** Per collection, its tables parents first, in Ferry's load order. */
  readonly collections: readonly {
    readonly name: string;
    readonly docs: number;
    readonly tables: readonly {
      readonly name: string;
      readonly columns: readonly string[];
      readonly file: string;
      readonly rows: number;
    }[];
  }[];
}

/**
 * The marketplace at `docs` documents (seed 1), uncompressed so that no case pays for gzip
 * and the comparison is about loading. Reused when present: generation is deterministic.
 * `planFrom` reuses another input's plan (the RSS-only run) instead of inferring again.
 */
export async function marketplaceInput(docs: number, planFrom?: BackfillInput): Promise<BackfillInput> {
  const dir = path.join(workDir, `backfill-marketplace-${docs}`);
  const input = { label: 'marketplace', archive: path.join(dir, 'marketplace.archive'), plan: planPath(dir) };
  await mkdir(dir, { recursive: true });
  if (!existsSync(input.archive)) {
    console.error(`bench: generating the marketplace at ${docs} documents…`);
    await atomically(input.archive, (tmp) => writeMarketplaceArchive(tmp, { seed: 1, scale: docs }));
  }
  await ensurePlan(input, planFrom);
  return input;
}

/** The 5000 real sales replicated to `docs` documents, as an uncompressed archive. */
export async function salesInput(salesArchive: string, docs: number): Promise<BackfillInput> {
  const dir = path.join(workDir, `backfill-sales-${docs}`);
  const input = { label: 'sales', archive: path.join(dir, 'sales.archive'), plan: planPath(dir) };
  await mkdir(dir, { recursive: true });
  if (!existsSync(input.archive)) {
    console.error(`bench: replicating the sales to ${docs} documents…`);
    await atomically(input.archive, (tmp) =>
      writeArchive(tmp, 'bench', [{ name: 'sales', docs: salesReplica(salesArchive, docs) }]),
    );
  }
  await ensurePlan(input);
  return input;
}

export async function readPlan(file: string): Promise<Plan> {
  return parsePlan(JSON.parse(await readFile(file, 'utf8')));
}

/**
 * Render every document's rows with `toRows` and `encodeCopyLine`, exactly the lines Ferry's
 * loader sends, into one file per table. Done once per input and never timed: the COPY case
 * measures PostgreSQL taking finished rows, the ceiling for any loader.
 */
export async function renderCopyFiles(input: BackfillInput): Promise<RenderedCopy> {
  const dir = path.join(path.dirname(input.archive), 'copy');
  const manifestFile = path.join(dir, 'manifest.json');
  if (existsSync(manifestFile)) return JSON.parse(await readFile(manifestFile, 'utf8')) as RenderedCopy;
  console.error(`bench: rendering COPY files for ${input.archive}…`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const plan = await readPlan(input.plan);
  const source = await openSource(input.archive);
  let docs = 0;
  let bytes = 0;
  const collections: RenderedCopy['collections'][number][] = [];
  try {
    for (const collection of plan.collections) {
      const tables = collection.tables.map((table) => {
        const file = path.join(dir, `${table.name}.copy`);
        return {
          name: table.name,
          columns: physicalColumns(collection, table).map((c) => c.name),
          file,
          rows: 0,
          out: createWriteStream(file, { highWaterMark: 1 << 20 }),
        };
      });
      let collectionDocs = 0;
      for await (const batch of source.read(collection.name, { batchSize: 1000 })) {
        if (batch.rejects.length > 0)
          throw new Error(`${batch.rejects.length} read rejects in ${input.archive}`);
        docs += batch.docs.length;
        collectionDocs += batch.docs.length;
        bytes += batch.bytes;
        const text = new Map(tables.map((t) => [t.name, '']));
        for (const doc of batch.docs) {
          const result = toRows(plan, collection.name, doc);
          if (!result.ok) throw new Error(`toRows rejected a document: ${JSON.stringify(result.reject)}`);
          for (const table of tables) {
            for (const row of result.rows.get(table.name) ?? []) {
              text.set(table.name, text.get(table.name)! + encodeCopyLine(row, table.columns));
              table.rows++;
            }
          }
        }
        for (const table of tables) {
          if (!table.out.write(text.get(table.name)!)) await once(table.out, 'drain');
        }
      }
      for (const table of tables) {
        table.out.end();
        await finished(table.out);
      }
      collections.push({
        name: collection.name,
        docs: collectionDocs,
        tables: tables.map(({ out: _out, ...table }) => table),
      });
    }
  } finally {
    await source.close();
  }
  const manifest: RenderedCopy = { docs, bytes, collections };
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function planPath(dir: string): string {
  return path.join(dir, 'plan.json');
}

/** Infer the plan once from the whole input (or copy another input's) and keep it beside it. */
async function ensurePlan(input: BackfillInput, planFrom?: BackfillInput): Promise<void> {
  if (existsSync(input.plan)) return;
  if (planFrom !== undefined) {
    await writeFile(input.plan, await readFile(planFrom.plan, 'utf8'));
    return;
  }
  console.error(`bench: inferring the mapping of ${input.archive}…`);
  const source = await openSource(input.archive);
  try {
    const { plan } = await inferMapping(source);
    await atomically(input.plan, (tmp) => writeFile(tmp, `${JSON.stringify(plan, null, 2)}\n`));
  } finally {
    await source.close();
  }
}

/** Write through a temporary name, so an interrupted generation is not mistaken for a finished one. */
async function atomically(file: string, write: (tmp: string) => Promise<unknown>): Promise<void> {
  const tmp = `${file}.partial`;
  await write(tmp);
  await rename(tmp, file);
}
