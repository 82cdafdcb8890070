import { z } from 'zod';
import { FerryError } from '../core/errors.js';
import { readTextIfExists } from '../core/file-exists.js';
import { exportIdentityFields } from './export-format.js';

const manifestSchema = z
  .object({
    ferryExport: z.literal(1),
    ...exportIdentityFields,
    exportedAt: z.string(),
    collections: z.array(
      z
        .object({
          name: z.string(),
          /** The collection's file, relative to the manifest's folder. */
          file: z.string(),
          documents: z.number().int().nonnegative(),
          /** Deep verify's buckets: `canonicalHash(_id)` picks one, sums of `canonicalHash(doc)`. */
          bucketBits: z.number().int().nonnegative(),
          bucketSums: z.array(z.string()),
          bucketCounts: z.array(z.number()),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * What an export carries beside its files (`<to>.manifest.json`): per collection the
 * number of documents and the same canonical bucket sums that deep verify computes. Two
 * bucket sums are equal exactly when the two sides hold the same documents (up to a
 * 2^-64 collision), so the manifest is an exact fingerprint of what was exported.
 *
 * @example
 * const manifest: ExportManifest | undefined = await readExportManifest('backup/shop.archive');
 */
export type ExportManifest = z.output<typeof manifestSchema>;

/** The manifest's path for an export written to `to`. */
export function manifestPath(to: string): string {
  return `${to}.manifest.json`;
}

/**
 * Read the manifest beside an export, or undefined when the path has none (not an export).
 *
 * @example
 * const manifest = await readExportManifest('backup/shop.archive');
 * manifest?.collections.map((c) => [c.name, c.documents]);
 */
export async function readExportManifest(to: string): Promise<ExportManifest | undefined> {
  const file = manifestPath(to.replace(/[/\\]+$/, ''));
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success)
    throw new FerryError(`${file} is not a Ferry export manifest`, {
      code: 'EXPORT_BAD_MANIFEST',
      category: 'input',
      where: { file },
      hint: 'export again, or move the file away if it is not Ferry’s',
    });
  return parsed.data;
}
