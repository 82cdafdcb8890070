import path from 'node:path';
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
          /** The file as written: its size and SHA-256 (an archive's collections share one file). */
          bytes: z.number().int().nonnegative(),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
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

const MANIFEST_SUFFIX = '.manifest.json';

/** The manifest's path for an export written to `to`. */
export function manifestPath(to: string): string {
  return `${to}${MANIFEST_SUFFIX}`;
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

/**
 * An export found where a source was expected: the path the export was written to (the
 * archive file or the folder, which any Ferry source reads) and its manifest.
 *
 * @example
 * declare const found: LocatedExport;
 * found.collections.get('orders')?.file   // 'backup/shop.archive', resolved from the manifest
 */
export interface LocatedExport {
  readonly to: string;
  readonly manifestFile: string;
  readonly manifest: ExportManifest;
  /** Each exported collection's manifest entry, with `file` resolved against the manifest's folder. */
  readonly collections: ReadonlyMap<string, ExportManifest['collections'][number]>;
}

/**
 * Whether a source location is a Ferry export: the manifest itself (`<to>.manifest.json`),
 * or a path with a manifest beside it. Undefined for anything else, which is read as an
 * ordinary source.
 *
 * @example
 * const found = await locateExport('backup/shop.archive.manifest.json');
 * found?.to   // 'backup/shop.archive'
 */
export async function locateExport(location: string): Promise<LocatedExport | undefined> {
  const trimmed = location.replace(/[/\\]+$/, '');
  const to = trimmed.endsWith(MANIFEST_SUFFIX) ? trimmed.slice(0, -MANIFEST_SUFFIX.length) : trimmed;
  if (to === '' || /^mongodb(\+srv)?:\/\//.test(to)) return undefined;
  const manifest = await readExportManifest(to);
  if (manifest === undefined) return undefined;
  const folder = path.dirname(to);
  return {
    to,
    manifestFile: manifestPath(to),
    manifest,
    collections: new Map(
      manifest.collections.map((c) => [c.name, { ...c, file: path.join(folder, c.file) }]),
    ),
  };
}
