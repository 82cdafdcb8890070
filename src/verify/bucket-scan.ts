import type { Document } from 'bson';
import { canonicalHash } from '../mapping/canonical/index.js';
import { type Plan, quoteIdent } from '../mapping/model.js';
import type { RowValue } from '../mapping/row-values.js';
import type { Source } from '../sources/types.js';
import type { Queryable } from '../target/target-database.js';
import { BucketSums, bucketBits, bucketGroups, bucketOf } from './buckets.js';
import { idHash } from './document-id.js';
import { loadRejectedIds, type RejectedIds } from './rejected-ids.js';
import type { SourceHashWorkers } from './source-hash-workers.js';
import { type TargetHashThread, TargetThreadFailed } from './target-hash-thread.js';
import { keyRangeBounds, keyRanges, readTargetDocuments, type TargetLocation } from './target-reader.js';

/**
 * Root rows below which a collection's target side is not cut into more ranges: a thread's
 * share is then a few pages, and splitting would only add the queries that find the cuts.
 */
const MIN_DOCUMENTS_PER_THREAD = 5000;

/**
 * The two passes behind a deep comparison of one collection (DESIGN.md pipeline: canonical
 * hash → bucket sums → bisect), shared by `verify` (which diffs what they find field by
 * field) and `ferry sync` (which copies it). Memory is bounded by the bucket sums and by
 * `maxTracked` per-document entries, never by the collection's size.
 */

/** What both passes need; the source and the target are injected, already open. */
export interface BucketScanInput {
  /** Only `read` is used: any source, or a live server's collections in `_id` order. */
  readonly source: Pick<Source, 'read'>;
  readonly db: Queryable;
  readonly plan: Plan;
  readonly collection: string;
  readonly schema: string;
  /** Only documents whose id hash passes are compared (`--level sample`); all when absent. */
  readonly sample?: (idHash: bigint) => boolean;
  /** Per-document entries the narrowing pass may hold at once (default 200 000). */
  readonly maxTracked?: number;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: 'hash' | 'narrow', documents: number) => void;
  /**
   * Hash the source's BSON without decoding it, on these threads, where the source hands BSON
   * over (dumps, archives); other sources are decoded and hashed here as before.
   */
  readonly sourceHashers?: SourceHashWorkers;
  /**
   * Read, rebuild and hash the target's documents on these threads (each its own connection),
   * the collection's root keys cut into one range per thread.
   */
  readonly targetThreads?: readonly TargetHashThread[];
}

/** What the hash pass found: counts, and the buckets that disagree, grouped for narrowing. */
export interface HashPassResult {
  /** Low id-hash bits that pick a bucket. */
  readonly bits: number;
  readonly bucketTotal: number;
  /** The open rejects of the collection: their documents are accounted for, not compared. */
  readonly rejected: RejectedIds;
  readonly targetCount: number;
  /** Source documents read, and unreadable ones met on the way. */
  readonly sourceDocuments: number;
  readonly unreadable: number;
  /** Source documents hashed (not rejected, in the sample). */
  readonly compared: number;
  readonly mismatched: readonly number[];
  /** `mismatched`, grouped so one narrowing pass per group holds at most `maxTracked` entries. */
  readonly groups: readonly (readonly number[])[];
}

/**
 * One document that differs, as the narrowing pass finds it. `doc` is the source document as
 * read; `key` is the target root row's primary key value, to fetch its rows again;
 * `targetHash` is what the target's document hashed to when it was read (`targetHash`), which
 * `ferry sync` checks under its lock to know the target has not been written since.
 */
export type BucketDifference =
  | { readonly kind: 'missing_in_target'; readonly id: unknown; readonly doc: Document }
  | {
      readonly kind: 'extra_in_target';
      readonly id: unknown;
      readonly key: RowValue;
      readonly targetHash: bigint;
    }
  | {
      readonly kind: 'content';
      readonly id: unknown;
      readonly doc: Document;
      readonly key: RowValue;
      readonly targetHash: bigint;
    };

/**
 * Pass 1, **hash**: stream both sides at once; each document adds its canonical hash to the
 * bucket of its id hash (buckets.ts). Sides that agree end here with nothing per document kept.
 *
 * @example
 * declare const source: Source;
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const pass = await hashPass({ source, db, plan, collection: 'orders', schema: 'public' });
 * pass.mismatched   // [] when the collection is identical on both sides
 */
export async function hashPass(input: BucketScanInput): Promise<HashPassResult> {
  const where = location(input);
  const rejected = await loadRejectedIds(input.db, input.schema, input.collection);
  const targetCount = await countRoot(input.db, where);
  const bits = bucketBits(targetCount + rejected.count);
  const inSample = input.sample ?? (() => true);

  const sourceSums = new BucketSums(bits);
  const [sourceSide, targetSums] = await Promise.all([
    (async () => {
      let documents = 0;
      let unreadable = 0;
      let compared = 0;
      const hashers = input.sourceHashers;
      const options = { ...readOptions(input), raw: hashers !== undefined };
      for await (const batch of input.source.read(input.collection, options)) {
        unreadable += batch.rejects.length;
        if (batch.raw !== undefined && hashers !== undefined) {
          const hashed = await hashers.hash(batch.raw);
          documents += hashed.documents;
          unreadable += hashed.unreadable;
          const { hashes } = hashed;
          for (let i = 0; i < hashed.documents; i++) {
            const h = hashes[2 * i]!;
            if (rejected.has(h) || !inSample(h)) continue;
            compared++;
            sourceSums.add(h, hashes[2 * i + 1]!);
          }
        }
        for (const doc of batch.docs) {
          documents++;
          const h = idHash(doc._id);
          if (rejected.has(h) || !inSample(h)) continue;
          compared++;
          sourceSums.add(h, canonicalHash(doc));
        }
        // Progress counts source documents: each is hashed on both sides, and adding the
        // target's rows as well showed twice the collection's size.
        input.onProgress?.('hash', documents + unreadable);
      }
      return { documents, unreadable, compared };
    })(),
    targetBucketSums(input, bits, inSample, targetCount),
  ]);

  const mismatched = sourceSums.mismatching(targetSums);
  const sizes = Float64Array.from(sourceSums.counts, (n, b) => Math.max(n, targetSums.counts[b]!));
  return {
    bits,
    bucketTotal: sourceSums.size,
    rejected,
    targetCount,
    sourceDocuments: sourceSide.documents,
    unreadable: sourceSide.unreadable,
    compared: sourceSide.compared,
    mismatched,
    groups: bucketGroups(mismatched, sizes, input.maxTracked ?? 200_000),
  };
}

/**
 * The target side of the hash pass: on the target threads when there are any, else here. The
 * threads share the collection by root key range (`keyRangeBounds`), so one big collection
 * keeps every thread busy; bucket sums do not depend on the order documents arrive in. A
 * thread that fails starts the side over here, which reports any real error itself.
 * `rootRows` is the collection's root row count, which the caller has counted already.
 *
 * @example
 * declare const input: BucketScanInput;
 * const sums = await targetBucketSums(input, 3, () => true, 3000);
 * sums.counts   // root rows per bucket
 */
export async function targetBucketSums(
  input: BucketScanInput,
  bits: number,
  inSample: (idHash: bigint) => boolean,
  rootRows: number,
): Promise<BucketSums> {
  const where = location(input);
  const threads = input.targetThreads ?? [];
  if (threads.length > 0) {
    const batchSize = input.batchSize ?? 1000;
    const bounds = await keyRangeBounds(input.db, where, rootRows, threads.length, MIN_DOCUMENTS_PER_THREAD);
    const sums = new BucketSums(bits);
    const sides = await Promise.allSettled(
      keyRanges(bounds).map(async (range, i) => {
        for await (const pairs of threads[i]!.hashes(where, batchSize, range)) {
          input.signal?.throwIfAborted();
          for (let j = 0; j < pairs.length; j += 2) {
            const h = pairs[j]!;
            if (inSample(h)) sums.add(h, pairs[j + 1]!);
          }
        }
      }),
    );
    const failures = sides.flatMap((side) => (side.status === 'rejected' ? [side.reason as unknown] : []));
    const fatal = failures.find((error) => !(error instanceof TargetThreadFailed));
    if (fatal !== undefined) throw fatal;
    if (failures.length === 0) return sums;
  }
  const sums = new BucketSums(bits);
  for await (const docs of readTargetDocuments(input.db, where, readOptions(input))) {
    for (const d of docs) {
      const h = idHash(d.id);
      if (inSample(h)) sums.add(h, targetHash(d));
    }
  }
  return sums;
}

/**
 * Pass 2, **narrow** one group of mismatching buckets: stream the target keeping only those
 * buckets' documents as `id hash → document hash` entries, then the source checked against
 * them. An id only the source has is `missing_in_target`; a hash that differs is `content`;
 * entries left over are `extra_in_target`. Narrowing goes straight to 64 bits (one document)
 * in this one pass: intermediate bisection levels would each cost another full read of both
 * sides. Yields the differences of each source batch as it goes, then the extras in batches.
 *
 * @example
 * declare const input: BucketScanInput;
 * declare const pass: HashPassResult;
 * for (const group of pass.groups)
 *   for await (const found of narrowBuckets(input, pass, group))
 *     for (const d of found) console.log(d.kind, d.id);
 */
export async function* narrowBuckets(
  input: BucketScanInput,
  pass: Pick<HashPassResult, 'bits' | 'rejected'>,
  group: readonly number[],
): AsyncGenerator<BucketDifference[]> {
  const where = location(input);
  const inSample = input.sample ?? (() => true);
  const buckets = new Set(group);
  const wanted = (h: bigint) => inSample(h) && buckets.has(bucketOf(h, pass.bits));
  const tracked = new Map<
    bigint,
    { readonly docHash: bigint; readonly id: unknown; readonly key: RowValue }
  >();
  let seen = 0;
  // The target is read in full before the source: `ferry sync` relies on that order to write
  // what the source read without reading it again (src/runtime/sync/observed-states.ts).
  for await (const docs of readTargetDocuments(input.db, where, readOptions(input))) {
    for (const d of docs) {
      const h = idHash(d.id);
      if (wanted(h)) tracked.set(h, { docHash: targetHash(d), id: d.id, key: d.key });
    }
    seen += docs.length;
    input.onProgress?.('narrow', seen);
  }
  for await (const batch of input.source.read(input.collection, readOptions(input))) {
    const found: BucketDifference[] = [];
    for (const doc of batch.docs) {
      const h = idHash(doc._id);
      if (pass.rejected.has(h) || !wanted(h)) continue;
      const entry = tracked.get(h);
      if (entry === undefined) {
        found.push({ kind: 'missing_in_target', id: doc._id, doc });
        continue;
      }
      tracked.delete(h);
      if (entry.docHash !== canonicalHash(doc))
        found.push({ kind: 'content', id: doc._id, doc, key: entry.key, targetHash: entry.docHash });
    }
    if (found.length > 0) yield found;
    seen += batch.docs.length;
    input.onProgress?.('narrow', seen);
  }
  const batchSize = input.batchSize ?? 1000;
  let extras: BucketDifference[] = [];
  for (const entry of tracked.values()) {
    extras.push({ kind: 'extra_in_target', id: entry.id, key: entry.key, targetHash: entry.docHash });
    if (extras.length >= batchSize) {
      yield extras;
      extras = [];
    }
  }
  if (extras.length > 0) yield extras;
}

/**
 * The canonical hash the target side contributes for one rebuilt document. A damaged document
 * must not match anything: it hashes a marker with its id instead.
 *
 * @example
 * import type { Document, ObjectId } from 'bson';
 * declare const id: ObjectId;
 * declare const doc: Document;
 * declare const sourceDoc: Document;
 * targetHash({ id, doc }) === canonicalHash(sourceDoc)   // the same document on both sides
 */
export function targetHash(d: { id: unknown; doc?: Document }): bigint {
  return d.doc === undefined ? canonicalHash(['ferry:rows-invalid', d.id]) : canonicalHash(d.doc);
}

function location(input: BucketScanInput): TargetLocation {
  return { plan: input.plan, collection: input.collection, schema: input.schema };
}

/**
 * Root rows of one collection in the target.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * await countRoot(db, { plan, collection: 'orders', schema: 'public' })   // 3000
 */
export async function countRoot(db: Queryable, where: TargetLocation): Promise<number> {
  const root = where.plan.collections.find((c) => c.name === where.collection)!.tables[0]!;
  const { rows } = await db.query<{ n: string | number }>(
    `select count(*) as n from ${quoteIdent(where.schema)}.${quoteIdent(root.name)}`,
  );
  return Number(rows[0]!.n);
}

function readOptions(input: BucketScanInput): { batchSize?: number; signal?: AbortSignal } {
  return {
    ...(input.batchSize !== undefined && { batchSize: input.batchSize }),
    ...(input.signal !== undefined && { signal: input.signal }),
  };
}
