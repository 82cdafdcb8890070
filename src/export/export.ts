import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FerryError } from '../core/errors.js';
import { PageThreadFailed } from '../core/page-stream-thread.js';
import { type CollectionPlan, type Plan, quoteIdent } from '../mapping/model.js';
import { Crc64 } from '../sources/archive/crc64.js';
import { ARCHIVE_BLOCK_END, archiveHeader, archivePrelude } from '../sources/archive/write-archive.js';
import { formatDumpMetadata } from '../sources/dump/dump-metadata.js';
import type { IndexSpec } from '../sources/types.js';
import { collectionBytes } from '../target/collection-bytes.js';
import type { Queryable } from '../target/target-database.js';
import { bucketBits } from '../verify/buckets.js';
import { collectionLayout, type ExportFormat, type JsonLayout, metadataFile } from './export-format.js';
import {
  bucketsFromJson,
  bucketsToJson,
  type CollectionProgress,
  type ExportJournal,
  journalPath,
  readJournal,
  removeJournal,
  writeJournal,
} from './export-journal.js';
import { type ExportManifest, manifestPath } from './export-manifest.js';
import { type EncodedPage, encodedPages, type PageEncoding, type PageStart } from './export-page.js';
import { ExportThread } from './export-thread.js';
import { type FileChecksum, fileChecksum } from './file-checksum.js';
import { orphanRows, type UnrebuildableRow } from './orphan-rows.js';
import { ResumableOutput } from './resumable-output.js';

/** Root rows per page: the backfill's chunk size, so a checkpoint (two fsyncs) covers as much. */
const DEFAULT_PAGE_SIZE = 5000;

/**
 * What `exportDocuments` exports, from where, and how.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const options: ExportOptions = { db, plan, schema: 'public', to: 'backup/shop', format: 'dump', gzip: true, database: 'shop' };
 */
export interface ExportOptions {
  readonly db: Queryable;
  readonly plan: Plan;
  /** The target schema holding the mapped tables. */
  readonly schema: string;
  /** A file for `archive`, a folder for the other formats. */
  readonly to: string;
  readonly format: ExportFormat;
  readonly gzip?: boolean;
  /** Collections to export (default: every collection of the plan). */
  readonly only?: readonly string[];
  /** The database name recorded in an archive's or a dump's namespaces (default `ferry`). */
  readonly database?: string;
  /** `json` format: the layout the JSON source was configured with. */
  readonly json?: JsonLayout;
  /** Continue an interrupted export from its journal. */
  readonly resume?: boolean;
  /** Root rows per page, and so per checkpoint (default 5000, the backfill's chunk). */
  readonly pageSize?: number;
  /** Collections exported at once, each on its own connection (default 2, as the backfill loads). */
  readonly parallel?: number;
  /**
   * The target's PostgreSQL URL (the server `db` is connected to). With it, each lane reads,
   * rebuilds and encodes on a worker thread with its own connection, beside the writing;
   * without it (an embedded target, a transaction), all of that runs on the calling thread.
   */
  readonly targetUrl?: string;
  /** Told of every page encoded on an export thread (tests, diagnostics). */
  readonly onThreadPage?: () => void;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { collection: string; done: number; total: number }) => void;
}

/**
 * One collection of an export: the rows found, the documents written, the file.
 *
 * @example
 * declare const summary: ExportSummary;
 * for (const c of summary.collections) console.log(c.collection, c.exported, 'of', c.rows, 'in', c.file);
 */
export interface ExportedCollection {
  readonly collection: string;
  /** Root rows in the target when the collection's export started. */
  readonly rows: number;
  readonly exported: number;
  readonly unrebuildable: number;
  readonly file: string;
}

/**
 * The outcome of `exportDocuments`, per collection and in total.
 *
 * @example
 * declare const options: ExportOptions;
 * const summary: ExportSummary = await exportDocuments(options);
 * if (!summary.ok) process.exitCode = 1;
 */
export interface ExportSummary {
  /** True only when every row rebuilt into an exported document. */
  readonly ok: boolean;
  readonly format: ExportFormat;
  readonly to: string;
  readonly manifest: string;
  readonly collections: readonly ExportedCollection[];
  /** Rows that did not rebuild (damaged documents, orphaned child rows), with their keys. */
  readonly unrebuildable: readonly UnrebuildableRow[];
}

/**
 * Rebuild every document from PostgreSQL through `toDoc` (the mapping's one inverse) and
 * write them as a mongodump archive or directory, Extended JSON lines, or plain JSON files.
 * Streams page by page in primary-key order (memory: about two pages), checkpoints after
 * every page (`resume: true` continues after a crash with nothing duplicated or missing),
 * and writes a manifest with counts and deep verify's bucket sums. Rows that no longer
 * rebuild are listed with their keys and make `ok` false; they are never skipped silently.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const summary = await exportDocuments({ db, plan, schema: 'public', to: 'backup/shop.archive', format: 'archive' });
 * if (!summary.ok) console.error(summary.unrebuildable);
 */
export async function exportDocuments(options: ExportOptions): Promise<ExportSummary> {
  const collections = selectCollections(options.plan, options.only);
  const journal = await startJournal(options, collections);
  const to = options.to;
  if (options.format === 'archive') await exportArchive(options, collections, journal);
  else await exportCollectionFiles(options, journal);

  // Each file is summed once (an archive's collections share theirs), after its last byte.
  const checksums = new Map<string, Promise<FileChecksum>>();
  const checksumOf = (file: string) => {
    if (!checksums.has(file)) checksums.set(file, fileChecksum(file));
    return checksums.get(file)!;
  };
  const manifest: ExportManifest = {
    ferryExport: 1,
    format: journal.format,
    gzip: journal.gzip,
    db: journal.db,
    schema: journal.schema,
    exportedAt: new Date().toISOString(),
    collections: await Promise.all(
      journal.collections.map(async (c) => ({
        name: c.name,
        file: path.relative(path.dirname(to), c.file),
        documents: c.documents,
        bucketBits: c.bucketBits,
        bucketSums: c.bucketSums,
        bucketCounts: c.bucketCounts,
        ...(await checksumOf(c.file)),
      })),
    ),
  };
  await writeFile(manifestPath(to), `${JSON.stringify(manifest, null, 2)}\n`);
  await removeJournal(to);

  const unrebuildable = journal.collections.flatMap((c) => c.damaged);
  return {
    ok: unrebuildable.length === 0,
    format: options.format,
    to,
    manifest: manifestPath(to),
    collections: journal.collections.map((c) => ({
      collection: c.name,
      rows: c.documents + c.damaged.filter((d) => d.table === rootTable(options.plan, c.name)).length,
      exported: c.documents,
      unrebuildable: c.damaged.length,
      file: c.file,
    })),
    unrebuildable,
  };
}

function selectCollections(plan: Plan, only: readonly string[] | undefined): CollectionPlan[] {
  if (only === undefined) return [...plan.collections];
  const unknown = only.filter((name) => !plan.collections.some((c) => c.name === name));
  if (unknown.length > 0)
    throw new FerryError(`the mapping has no collection ${unknown.join(', ')}`, {
      code: 'EXPORT_UNKNOWN_COLLECTION',
      category: 'usage',
      hint: `the mapping's collections are ${plan.collections.map((c) => c.name).join(', ')}`,
    });
  return plan.collections.filter((c) => only.includes(c.name));
}

async function startJournal(
  options: ExportOptions,
  collections: readonly CollectionPlan[],
): Promise<ExportJournal> {
  const gzip = options.gzip === true;
  const db = options.database ?? 'ferry';
  if (options.resume === true) {
    const journal = await readJournal(options.to);
    if (journal === undefined)
      throw new FerryError(`there is no interrupted export at ${options.to} to resume`, {
        code: 'EXPORT_NOTHING_TO_RESUME',
        category: 'usage',
        where: { file: journalPath(options.to) },
        hint: 'run the export without --resume',
      });
    const same =
      journal.format === options.format &&
      journal.gzip === gzip &&
      journal.db === db &&
      journal.schema === options.schema &&
      journal.collections.map((c) => c.name).join('\0') === collections.map((c) => c.name).join('\0');
    if (!same)
      throw new FerryError(`the interrupted export at ${options.to} was started with other options`, {
        code: 'EXPORT_RESUME_MISMATCH',
        category: 'usage',
        where: { file: journalPath(options.to) },
        hint: `resume with --format ${journal.format}${journal.gzip ? ' --gzip' : ''} --schema ${journal.schema} and the same collections, or remove ${options.to} and export again`,
      });
    return journal;
  }
  if (existsSync(options.to) || existsSync(journalPath(options.to)))
    throw new FerryError(`${options.to} already exists`, {
      code: 'EXPORT_TARGET_EXISTS',
      category: 'usage',
      where: { file: options.to },
      hint: 'pass --resume to continue an interrupted export, or choose a new path (an export never overwrites)',
    });
  const journal: ExportJournal = {
    ferryExportJournal: 1,
    format: options.format,
    gzip,
    db,
    schema: options.schema,
    collections: await Promise.all(
      collections.map(async (c) => {
        const rows = await rootRowCount(options, c);
        const bits = bucketBits(rows);
        const file =
          options.format === 'archive'
            ? options.to
            : collectionLayout(options.format, options.to, c.name, { db, gzip }).file;
        return {
          name: c.name,
          file,
          rows,
          offset: 0,
          documents: 0,
          done: false,
          bucketBits: bits,
          ...bucketsToJson(bucketsFromJson(bits, { bucketSums: [], bucketCounts: [] })),
          damaged: [],
        } satisfies CollectionProgress;
      }),
    ),
  };
  await writeJournal(options.to, journal);
  return journal;
}

/**
 * How one collection's file is framed around its pages of documents (which the page source
 * encodes, export-page.ts): what precedes the first document and what closes the collection.
 */
interface CollectionWriter {
  readonly output: ResumableOutput;
  /** The bytes before the collection's first document. */
  opening(): Uint8Array[];
  /** The bytes that close the collection, given its committed progress. */
  closing(progress: CollectionProgress): Uint8Array[];
  close(): Promise<void>;
}

/**
 * Runs the collections `parallel` at a time. Each lane rebuilds and encodes its pages on its
 * own (on a thread of its own with its own connection when the target is a PostgreSQL
 * server), and commits them one at a time under one lock: append, fsync, then the journal.
 * So the journal (one file for every collection) always describes durable bytes, even when
 * two collections share the archive: a page's blocks are appended whole, between other pages'.
 */
async function exportLanes(
  options: ExportOptions,
  journal: ExportJournal,
  writerFor: (progress: CollectionProgress) => Promise<CollectionWriter>,
): Promise<void> {
  const pending = await heaviestFirst(
    options,
    journal.collections.filter((c) => !c.done),
  );
  const commits = new CommitLock();
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  const encoding = pageEncodingOf(options, journal);
  const url = options.targetUrl?.trim();
  const laneCount = Math.max(1, Math.min(options.parallel ?? 2, pending.length));
  const lane = async () => {
    const thread = url ? new ExportThread(options.plan, url, encoding) : undefined;
    try {
      for (let progress = pending.shift(); progress !== undefined; progress = pending.shift()) {
        const writer = await writerFor(progress);
        try {
          const pages = (start: PageStart) =>
            thread !== undefined
              ? threadPages(thread, start, options.onThreadPage)
              : encodedPages(options.db, options.plan, start, encoding, signal);
          await exportPages({ ...options, signal }, progress, writer, journal, commits, pages);
        } finally {
          await writer.close();
        }
      }
    } finally {
      await thread?.close();
    }
  };
  const lanes = Array.from({ length: laneCount }, () =>
    lane().catch((error: unknown) => {
      // One failing collection stops the others at their next page.
      stop.abort(error);
      throw error;
    }),
  );
  const settled = await Promise.allSettled(lanes);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** One archive for every collection: the prelude, then the collections' blocks, each ended by its EOF. */
async function exportArchive(
  options: ExportOptions,
  collections: readonly CollectionPlan[],
  journal: ExportJournal,
): Promise<void> {
  // The archive's durable length is one number: cut back to it, and whatever a killed run
  // wrote after its last checkpoint is gone.
  const output = await ResumableOutput.open(options.to, {
    gzip: journal.gzip,
    resumeAt: journal.archiveOffset ?? 0,
  });
  try {
    if (journal.archiveOffset === undefined) {
      for (const bytes of archivePrelude(journal.db, collections.map(withIndexes))) output.write(bytes);
      journal.archiveOffset = await output.flush();
      await writeJournal(options.to, journal);
    }
    await exportLanes(options, journal, async () => ({
      output,
      opening: () => [],
      closing: (p) => {
        const crc = p.crc === undefined ? new Crc64() : Crc64.resume(p.crc);
        return [archiveHeader(journal.db, p.name, true, crc.digest()), ARCHIVE_BLOCK_END];
      },
      // The archive is closed once, after every lane.
      close: async () => undefined,
    }));
  } finally {
    await output.close();
  }
}

/** One file per collection (dump, Extended JSON, plain JSON). */
async function exportCollectionFiles(options: ExportOptions, journal: ExportJournal): Promise<void> {
  const format = options.format as Exclude<ExportFormat, 'archive'>;
  await exportLanes(options, journal, async (progress) => {
    const collection = options.plan.collections.find((c) => c.name === progress.name)!;
    const layout = collectionLayout(format, options.to, collection.name, {
      db: journal.db,
      gzip: journal.gzip,
      ...(options.json !== undefined && { json: options.json }),
    });
    const metadata = metadataFile(format, options.to, collection.name, journal.db, journal.gzip);
    if (metadata !== undefined) {
      // Rewritten whole on a resume: it depends only on the plan.
      const text = formatDumpMetadata({
        collectionName: collection.name,
        indexes: withIndexes(collection).indexes,
      });
      await mkdir(path.dirname(metadata), { recursive: true });
      await writeFile(metadata, journal.gzip ? gzipSync(text) : text);
    }
    const output = await ResumableOutput.open(layout.file, { gzip: journal.gzip, resumeAt: progress.offset });
    return {
      output,
      opening: () => [layout.opening()],
      closing: () => [layout.closing()],
      close: () => output.close(),
    };
  });
}

/**
 * The page loop every format shares: take the next encoded page after the last checkpointed
 * key, then commit it: append, fsync, and only then move the journal (bucket sums, counts,
 * damaged rows, the archive's CRC). Pages come from `pagesFrom`, on a thread or here; a
 * thread that fails is replaced by this thread from the last commit, which reports any real
 * error itself.
 */
async function exportPages(
  options: ExportOptions,
  progress: CollectionProgress,
  writer: CollectionWriter,
  journal: ExportJournal,
  commits: CommitLock,
  pagesFrom: (start: PageStart) => AsyncIterable<EncodedPage>,
): Promise<void> {
  const collection = options.plan.collections.find((c) => c.name === progress.name)!;
  // Counted once, when the journal was started (an older journal has no count: count now).
  const total = progress.rows ?? (await rootRowCount(options, collection));
  const sums = bucketsFromJson(progress.bucketBits, progress);
  const commit = (chunks: readonly Uint8Array[], change: () => void) =>
    commits.run(async () => {
      for (const chunk of chunks) writer.output.write(chunk);
      progress.offset = await writer.output.flush();
      if (journal.format === 'archive') journal.archiveOffset = progress.offset;
      change();
      await writeJournal(options.to, journal);
    });
  const startOf = (): PageStart => ({
    collection: progress.name,
    schema: options.schema,
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
    position: progress.documents,
    ...(progress.lastKey !== undefined && { after: progress.lastKey }),
    ...(progress.crc !== undefined && { crc: progress.crc }),
  });
  const commitPage = async (page: EncodedPage) => {
    options.signal?.throwIfAborted();
    const opening = progress.documents === 0 && page.documents > 0 ? writer.opening() : [];
    await commit(page.documents > 0 ? [...opening, page.bytes] : [], () => {
      progress.damaged.push(...page.damaged);
      progress.documents += page.documents;
      progress.lastKey = page.lastKey;
      for (let i = 0; i < page.hashes.length; i += 2) sums.add(page.hashes[i]!, page.hashes[i + 1]!);
      Object.assign(progress, bucketsToJson(sums));
      if (page.crc !== undefined) progress.crc = [page.crc[0], page.crc[1]];
    });
    options.onProgress?.({ collection: progress.name, done: progress.documents, total });
  };
  try {
    for await (const page of pagesFrom(startOf())) await commitPage(page);
  } catch (error) {
    if (!(error instanceof PageThreadFailed)) throw error;
    for await (const page of encodedPages(
      options.db,
      options.plan,
      startOf(),
      pageEncodingOf(options, journal),
      options.signal,
    ))
      await commitPage(page);
  }
  const orphans = await orphanRows(options.db, options.schema, collection);
  const opening = progress.documents === 0 ? writer.opening() : [];
  await commit([...opening, ...writer.closing(progress)], () => {
    progress.damaged.push(...orphans);
    progress.done = true;
  });
}

async function* threadPages(
  thread: ExportThread,
  start: PageStart,
  onThreadPage: (() => void) | undefined,
): AsyncGenerator<EncodedPage> {
  for await (const page of thread.pages(start)) {
    onThreadPage?.();
    yield page;
  }
}

function pageEncodingOf(options: ExportOptions, journal: ExportJournal): PageEncoding {
  return {
    format: journal.format,
    db: journal.db,
    ...(options.json !== undefined && { json: options.json }),
  };
}

/**
 * The order to start collections in: the heaviest first, so the end of the export is not one
 * big collection rebuilt alone while the other lane idles. Weight is the bytes of the
 * collection's tables (child tables hold most of some collections' rows), else its root rows.
 */
async function heaviestFirst(
  options: ExportOptions,
  collections: CollectionProgress[],
): Promise<CollectionProgress[]> {
  if (collections.length < 2 || (options.parallel ?? 2) < 2) return collections;
  const bytes = await collectionBytes(options.db, options.plan, options.schema);
  const weight = (progress: CollectionProgress) => {
    const size = bytes.get(progress.name) ?? 0;
    const tables = options.plan.collections.find((c) => c.name === progress.name)!.tables;
    return size > 0 ? size : (progress.rows ?? 0) * tables.length;
  };
  return [...collections].sort((a, b) => weight(b) - weight(a));
}

/** Runs async steps one at a time, in the order asked, whatever each one's outcome. */
class CommitLock {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(step);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

async function rootRowCount(options: ExportOptions, collection: CollectionPlan): Promise<number> {
  const { rows } = await options.db.query<{ n: string | number }>(
    `select count(*) as n from ${quoteIdent(options.schema)}.${quoteIdent(collection.tables[0]!.name)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

function rootTable(plan: Plan, collection: string): string {
  return plan.collections.find((c) => c.name === collection)!.tables[0]!.name;
}

/** The plan keeps the source's indexes; a dump or archive carries them back to MongoDB. */
function withIndexes(collection: CollectionPlan): { name: string; indexes: IndexSpec[] } {
  return { name: collection.name, indexes: (collection.indexes ?? []) as unknown as IndexSpec[] };
}
