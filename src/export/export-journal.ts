import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FerryError } from '../core/errors.js';
import { readTextIfExists } from '../core/file-exists.js';
import { BucketSums } from '../verify/buckets.js';
import { exportIdentityFields } from './export-format.js';

/**
 * The export's checkpoint, beside the output (`<to>.ferry-export.json`): for each
 * collection, how many bytes of its file are durable, the last root key written, the
 * running checksum and bucket sums. It is replaced atomically after every flushed page, so
 * after a `kill -9` it describes a prefix of the output exactly, and `--resume` cuts the
 * files back to it and carries on from the key after. Deleted when the export completes.
 */

const rowKeySchema = z.union([z.string(), z.number(), z.object({ hex: z.string() }).strict()]);

const collectionProgressSchema = z
  .object({
    name: z.string(),
    file: z.string(),
    /** Root rows when the export started: the bucket bits and the progress total. */
    rows: z.number().int().nonnegative().optional(),
    /** Durable bytes of `file` (for an archive, of the one archive file). */
    offset: z.number().int().nonnegative(),
    documents: z.number().int().nonnegative(),
    lastKey: rowKeySchema.optional(),
    done: z.boolean(),
    /** The archive's running CRC-64 of this collection, as two 32-bit halves. */
    crc: z.tuple([z.number(), z.number()]).optional(),
    bucketBits: z.number().int().nonnegative(),
    bucketSums: z.array(z.string()),
    bucketCounts: z.array(z.number()),
    damaged: z.array(z.object({ table: z.string(), key: z.string(), reason: z.string() }).strict()),
  })
  .strict();

const journalSchema = z
  .object({
    ferryExportJournal: z.literal(1),
    ...exportIdentityFields,
    /** The archive's durable length once its prelude is written. */
    archiveOffset: z.number().int().nonnegative().optional(),
    collections: z.array(collectionProgressSchema),
  })
  .strict();

export type ExportJournal = z.output<typeof journalSchema>;
export type CollectionProgress = z.output<typeof collectionProgressSchema>;
export type RowKeyJson = z.output<typeof rowKeySchema>;

/** The journal's path for an export written to `to`. */
export function journalPath(to: string): string {
  return `${to}.ferry-export.json`;
}

/**
 * Read the journal of an interrupted export, or undefined when there is none.
 *
 * @example
 * const journal = await readJournal('out/shop.archive');
 */
export async function readJournal(to: string): Promise<ExportJournal | undefined> {
  const file = journalPath(to);
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const parsed = journalSchema.safeParse(safeJson(text));
  if (!parsed.success)
    throw new FerryError(`${file} is not an export journal Ferry can resume from`, {
      code: 'EXPORT_BAD_JOURNAL',
      category: 'input',
      where: { file },
      hint: 'remove the partial export and its journal, and export again without --resume',
    });
  return parsed.data;
}

/**
 * Replace the journal atomically: write a temporary file, fsync it, rename it over the old
 * one. A crash leaves either the old journal or the new one, never half of one.
 */
export async function writeJournal(to: string, journal: ExportJournal): Promise<void> {
  const file = journalPath(to);
  const temporary = `${file}.tmp`;
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(JSON.stringify(journal));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

export async function removeJournal(to: string): Promise<void> {
  await rm(journalPath(to), { force: true });
}

/** Bucket sums as the journal and the manifest keep them: hex sums and counts. */
export function bucketsToJson(sums: BucketSums): { bucketSums: string[]; bucketCounts: number[] } {
  return {
    bucketSums: Array.from(sums.sums, (s) => s.toString(16)),
    bucketCounts: Array.from(sums.counts),
  };
}

/** Bucket sums back from {@link bucketsToJson}'s form. */
export function bucketsFromJson(
  bits: number,
  json: { bucketSums: string[]; bucketCounts: number[] },
): BucketSums {
  const sums = new BucketSums(bits);
  json.bucketSums.forEach((hex, i) => {
    sums.sums[i] = BigInt(`0x${hex}`);
  });
  json.bucketCounts.forEach((n, i) => {
    sums.counts[i] = n;
  });
  return sums;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
