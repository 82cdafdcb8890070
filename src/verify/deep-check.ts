import type { Document } from 'bson';
import { canonicalDiff, canonicalHash } from '../mapping/canonical/index.js';
import { type Plan, quoteIdent } from '../mapping/model.js';
import type { RowValue } from '../mapping/row-values.js';
import type { Source } from '../sources/types.js';
import type { Queryable } from '../target/target-database.js';
import { BucketSums, bucketBits, bucketGroups, bucketOf } from './buckets.js';
import { idHash, idText, valueText } from './document-id.js';
import { loadRejectedIds, type RejectedIds } from './rejected-ids.js';
import { fetchTargetDocuments, readTargetDocuments, type TargetLocation } from './target-reader.js';
import type { CollectionVerifyResult, FieldDifference, VerifyDifference } from './types.js';

/** What the deep check needs; the source and the target are injected, already open. */
export interface DeepCheckInput {
  readonly source: Source;
  readonly db: Queryable;
  readonly plan: Plan;
  readonly collection: string;
  readonly schema: string;
  /** Only documents whose id hash passes are compared (`--level sample`); all when absent. */
  readonly sample?: (idHash: bigint) => boolean;
  /** Put both values into each field difference (default: paths only). */
  readonly showValues?: boolean;
  /** Differences listed per collection (default 1000); all are counted. */
  readonly maxDifferences?: number;
  /** Per-document entries the narrowing pass may hold at once (default 200 000). */
  readonly maxTracked?: number;
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: 'hash' | 'narrow', documents: number) => void;
}

/**
 * The deep check of one collection (DESIGN.md pipeline: read source doc + toDoc(rows) →
 * canonical hash → bucket sums → bisect → diffs), as a state machine of passes:
 *
 * 1. **hash**: stream both sides at once; each document adds its canonical hash to the
 *    bucket of its id hash (buckets.ts). Memory: the bucket sums. Sources that agree end here,
 *    with nothing per document kept.
 * 2. **narrow**: for each group of mismatching buckets (sized to `maxTracked` documents), stream
 *    both sides again keeping only those buckets' documents: the target's as `id hash →
 *    document hash` entries, then the source's checked against them. An id only the source
 *    has is `missing_in_target`; a hash that differs is `content`, diffed field by field
 *    against the target document fetched by key; entries left over are `extra_in_target`.
 *    Narrowing goes straight to 64 bits (one document) in this one pass: intermediate bisection
 *    levels would each cost another full read of both sides.
 *
 * Source documents whose `_id` is an open reject are skipped: they are accounted as rejected.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const source: Source;
 * const result = await deepCheck({ source, db, plan, collection: 'orders', schema: 'public' });
 * result.differences   // [{ kind: 'content', id: '5bd7…', fields: [{ path: 'items.0.price', kind: 'value' }] }]
 */
export async function deepCheck(input: DeepCheckInput): Promise<CollectionVerifyResult> {
  const started = performance.now();
  const where: TargetLocation = { plan: input.plan, collection: input.collection, schema: input.schema };
  const rejected = await loadRejectedIds(input.db, input.schema, input.collection);
  const targetCount = await countRoot(input.db, where);
  const bits = bucketBits(targetCount + rejected.count);
  const inSample = input.sample ?? (() => true);

  const sourceSums = new BucketSums(bits);
  const targetSums = new BucketSums(bits);
  const [sourceSide] = await Promise.all([
    (async () => {
      let documents = 0;
      let unreadable = 0;
      let compared = 0;
      for await (const batch of input.source.read(input.collection, readOptions(input))) {
        unreadable += batch.rejects.length;
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
    (async () => {
      for await (const docs of readTargetDocuments(input.db, where, readOptions(input))) {
        for (const d of docs) {
          const h = idHash(d.id);
          if (inSample(h)) targetSums.add(h, targetHash(d));
        }
      }
    })(),
  ]);

  const mismatched = sourceSums.mismatching(targetSums);
  const found = new Differences(input.maxDifferences ?? 1000);
  const sizes = Float64Array.from(sourceSums.counts, (n, b) => Math.max(n, targetSums.counts[b]!));
  for (const group of bucketGroups(mismatched, sizes, input.maxTracked ?? 200_000))
    await narrow(input, where, rejected, inSample, new Set(group), bits, found);

  const sourceCount = sourceSide.documents + sourceSide.unreadable;
  const countsAgree = sourceCount === targetCount + rejected.count;
  const problems = found.missing + found.extra + found.content;
  return {
    collection: input.collection,
    level: input.sample === undefined ? 'deep' : 'sample',
    sourceCount,
    targetCount,
    rejected: rejected.count,
    compared: sourceSide.compared,
    matched: sourceSide.compared - found.missing - found.content,
    missing: found.missing,
    extra: found.extra,
    content: found.content,
    countsAgree,
    buckets: { total: sourceSums.size, mismatched: mismatched.length },
    differences: found.list,
    truncated: found.truncated,
    // At sample level the counts are still full counts, so they still must agree.
    ok: problems === 0 && countsAgree,
    seconds: (performance.now() - started) / 1000,
  };
}

interface Tracked {
  readonly docHash: bigint;
  readonly id: unknown;
  readonly key: RowValue;
}

async function narrow(
  input: DeepCheckInput,
  where: TargetLocation,
  rejected: RejectedIds,
  inSample: (h: bigint) => boolean,
  buckets: ReadonlySet<number>,
  bits: number,
  found: Differences,
): Promise<void> {
  const tracked = new Map<bigint, Tracked>();
  let seen = 0;
  for await (const docs of readTargetDocuments(input.db, where, readOptions(input))) {
    for (const d of docs) {
      const h = idHash(d.id);
      if (inSample(h) && buckets.has(bucketOf(h, bits)))
        tracked.set(h, { docHash: targetHash(d), id: d.id, key: d.key });
    }
    seen += docs.length;
    input.onProgress?.('narrow', seen);
  }
  for await (const batch of input.source.read(input.collection, readOptions(input))) {
    const differing: { doc: Document; entry: Tracked }[] = [];
    for (const doc of batch.docs) {
      const h = idHash(doc._id);
      if (rejected.has(h) || !inSample(h) || !buckets.has(bucketOf(h, bits))) continue;
      const entry = tracked.get(h);
      if (entry === undefined) {
        found.add({ kind: 'missing_in_target', id: idText(doc._id) });
        continue;
      }
      tracked.delete(h);
      if (entry.docHash !== canonicalHash(doc)) differing.push({ doc, entry });
    }
    if (differing.length > 0) {
      const targets = await fetchTargetDocuments(
        input.db,
        where,
        differing.map((d) => d.entry.key),
      );
      const byId = new Map(targets.map((t) => [idHash(t.id), t]));
      for (const { doc } of differing) {
        const target = byId.get(idHash(doc._id));
        const fields: FieldDifference[] =
          target?.doc === undefined
            ? [{ path: target?.damaged ?? '', kind: 'rows_invalid' }]
            : canonicalDiff(doc, target.doc).map((d) => ({
                path: d.path,
                kind: d.kind,
                ...(input.showValues === true && { source: valueText(d.left), target: valueText(d.right) }),
              }));
        found.add({ kind: 'content', id: idText(doc._id), fields });
      }
    }
    seen += batch.docs.length;
    input.onProgress?.('narrow', seen);
  }
  for (const entry of tracked.values()) found.add({ kind: 'extra_in_target', id: idText(entry.id) });
}

/** A damaged document must not match anything: hash a marker with its id instead. */
function targetHash(d: { id: unknown; doc?: Document }): bigint {
  return d.doc === undefined ? canonicalHash(['ferry:rows-invalid', d.id]) : canonicalHash(d.doc);
}

async function countRoot(db: Queryable, where: TargetLocation): Promise<number> {
  const root = where.plan.collections.find((c) => c.name === where.collection)!.tables[0]!;
  const { rows } = await db.query<{ n: string | number }>(
    `select count(*) as n from ${quoteIdent(where.schema)}.${quoteIdent(root.name)}`,
  );
  return Number(rows[0]!.n);
}

function readOptions(input: DeepCheckInput): { batchSize?: number; signal?: AbortSignal } {
  return {
    ...(input.batchSize !== undefined && { batchSize: input.batchSize }),
    ...(input.signal !== undefined && { signal: input.signal }),
  };
}

/** Counts every difference, keeps the first `limit`. */
class Differences {
  readonly list: VerifyDifference[] = [];
  missing = 0;
  extra = 0;
  content = 0;
  constructor(private readonly limit: number) {}
  get truncated(): boolean {
    return this.missing + this.extra + this.content > this.list.length;
  }
  add(d: VerifyDifference): void {
    if (d.kind === 'missing_in_target') this.missing++;
    else if (d.kind === 'extra_in_target') this.extra++;
    else this.content++;
    if (this.list.length < this.limit) this.list.push(d);
  }
}
