import { bucketsFromJson } from '../export/export-journal.js';
import type { LocatedExport } from '../export/export-manifest.js';
import { type FileChecksum, fileChecksum } from '../export/file-checksum.js';
import { countRoot, type HashPassResult, targetBucketSums } from './bucket-scan.js';
import { bucketGroups } from './buckets.js';
import { type DeepCheckInput, deepCheck, narrowAndDescribe } from './deep-check.js';
import { loadRejectedIds } from './rejected-ids.js';
import type { CollectionVerifyResult } from './types.js';

/** What the manifest check adds to the deep check's input. */
export interface ManifestCheckInput extends DeepCheckInput {
  readonly export: LocatedExport;
  /** Read and hash every exported document again instead of trusting the manifest's sums. */
  readonly reread?: boolean;
  /** Checksums of the export's files, shared by the collections of one run (an archive is one file). */
  readonly checksums: Map<string, Promise<FileChecksum>>;
}

/**
 * Deep verify of one collection against a Ferry export, through its manifest:
 *
 * 1. **file**: the collection's file must still have the size and SHA-256 the export
 *    recorded. One sequential read, no document decoded.
 * 2. **hash**: the target's bucket sums (the same buckets deep verify computes on the target
 *    side) against the manifest's, which are the canonical sums of exactly the exported
 *    documents. Equal sums and counts prove equal documents (up to a 2^-64 collision), so a
 *    clean collection ends here without the export's documents being read.
 * 3. **narrow**: mismatching buckets are narrowed against the export's documents, which
 *    names each difference with its `_id` and field paths as deep verify does.
 *
 * A file that changed since the export is not trusted: its documents are read and hashed
 * (the ordinary deep check), as with `reread`. Buckets that disagree while the file's own
 * documents agree with the target mean the manifest is not its file's: that fails too.
 *
 * @example
 * declare const input: DeepCheckInput;
 * declare const found: LocatedExport;
 * const result = await manifestCheck({ ...input, export: found, checksums: new Map() });
 * result.export?.compared   // 'manifest'
 */
export async function manifestCheck(input: ManifestCheckInput): Promise<CollectionVerifyResult> {
  const started = performance.now();
  const entry = input.export.collections.get(input.collection);
  // A collection the export does not hold is compared as an empty source, as deep verify does.
  if (entry === undefined) return deepCheck(input);
  const file = entry.file;
  const now = await checksumOnce(input.checksums, file);
  const fileChanged = now.bytes !== entry.bytes || now.sha256 !== entry.sha256;
  if (fileChanged || input.reread === true) {
    const reread = await deepCheck(input);
    return { ...reread, export: { file, compared: 'reread', fileChanged, manifestAgrees: true } };
  }

  const where = { plan: input.plan, collection: input.collection, schema: input.schema };
  const targetCount = await countRoot(input.db, where);
  const [rejected, targetSums] = await Promise.all([
    loadRejectedIds(input.db, input.schema, input.collection),
    targetBucketSums(input, entry.bucketBits, () => true, targetCount),
  ]);
  const manifestSums = bucketsFromJson(entry.bucketBits, entry);
  const mismatched = manifestSums.mismatching(targetSums);
  const sizes = Float64Array.from(manifestSums.counts, (n, b) => Math.max(n, targetSums.counts[b]!));
  const pass: HashPassResult = {
    bits: entry.bucketBits,
    bucketTotal: manifestSums.size,
    rejected,
    targetCount,
    sourceDocuments: entry.documents,
    unreadable: 0,
    compared: entry.documents,
    mismatched,
    groups: bucketGroups(mismatched, sizes, input.maxTracked ?? 200_000),
  };
  const result = await narrowAndDescribe(input, pass, started);
  // The file is the one exported, yet its documents agree with the target where the
  // manifest's sums do not: the manifest was altered, and proves nothing.
  const manifestAgrees = mismatched.length === 0 || result.missing + result.extra + result.content > 0;
  return {
    ...result,
    ok: result.ok && manifestAgrees,
    export: { file, compared: 'manifest', fileChanged: false, manifestAgrees },
  };
}

function checksumOnce(cache: Map<string, Promise<FileChecksum>>, file: string): Promise<FileChecksum> {
  let sum = cache.get(file);
  if (sum === undefined) {
    sum = fileChecksum(file);
    cache.set(file, sum);
  }
  return sum;
}
