import { canonicalDiff } from '../mapping/canonical/index.js';
import {
  type BucketDifference,
  type BucketScanInput,
  type HashPassResult,
  hashPass,
  narrowBuckets,
} from './bucket-scan.js';
import { idHash, idText, valueText } from './document-id.js';
import { fetchTargetDocuments, type TargetLocation } from './target-reader.js';
import type { CollectionVerifyResult, FieldDifference, VerifyDifference } from './types.js';

/** What the deep check needs; the source and the target are injected, already open. */
export interface DeepCheckInput extends BucketScanInput {
  /** Put both values into each field difference (default: paths only). */
  readonly showValues?: boolean;
  /** Differences listed per collection (default 1000); all are counted. */
  readonly maxDifferences?: number;
}

/**
 * The deep check of one collection (DESIGN.md pipeline: read source doc + toDoc(rows) →
 * canonical hash → bucket sums → bisect → diffs), as a state machine of passes:
 *
 * 1. **hash** (bucket-scan.ts `hashPass`): stream both sides at once into id-hash bucket sums.
 *    Memory: the bucket sums. Sources that agree end here, with nothing per document kept.
 * 2. **narrow** (bucket-scan.ts `narrowBuckets`): for each group of mismatching buckets, stream
 *    both sides again down to single documents: `missing_in_target`, `extra_in_target`, or
 *    `content`, which is diffed here field by field against the target document fetched by key.
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
  return narrowAndDescribe(input, await hashPass(input), started);
}

/**
 * Everything after the hash pass, whoever computed its bucket sums (the source's documents,
 * or an export's manifest): narrow the mismatching buckets to documents, diff each content
 * difference field by field, and total the collection's result.
 *
 * @example
 * declare const input: DeepCheckInput;
 * declare const pass: HashPassResult;
 * const result = await narrowAndDescribe(input, pass, performance.now());
 */
export async function narrowAndDescribe(
  input: DeepCheckInput,
  pass: HashPassResult,
  started: number,
): Promise<CollectionVerifyResult> {
  const where: TargetLocation = { plan: input.plan, collection: input.collection, schema: input.schema };
  const found = new Differences(input.maxDifferences ?? 1000);
  for (const group of pass.groups)
    for await (const differences of narrowBuckets(input, pass, group))
      await describe(input, where, differences, found);

  const sourceCount = pass.sourceDocuments + pass.unreadable;
  const countsAgree = sourceCount === pass.targetCount + pass.rejected.count;
  const problems = found.missing + found.extra + found.content;
  return {
    collection: input.collection,
    level: input.sample === undefined ? 'deep' : 'sample',
    sourceCount,
    targetCount: pass.targetCount,
    rejected: pass.rejected.count,
    compared: pass.compared,
    matched: pass.compared - found.missing - found.content,
    missing: found.missing,
    extra: found.extra,
    content: found.content,
    countsAgree,
    buckets: { total: pass.bucketTotal, mismatched: pass.mismatched.length },
    differences: found.list,
    truncated: found.truncated,
    // At sample level the counts are still full counts, so they still must agree.
    ok: problems === 0 && countsAgree,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Record what narrowing found; content differences are diffed field by field against the target. */
async function describe(
  input: DeepCheckInput,
  where: TargetLocation,
  differences: readonly BucketDifference[],
  found: Differences,
): Promise<void> {
  const differing = differences.filter((d) => d.kind === 'content');
  const targets = await fetchTargetDocuments(
    input.db,
    where,
    differing.map((d) => d.key),
  );
  const byId = new Map(targets.map((t) => [idHash(t.id), t]));
  for (const d of differences) {
    if (d.kind !== 'content') {
      found.add({ kind: d.kind, id: idText(d.id) });
      continue;
    }
    const target = byId.get(idHash(d.id));
    const fields: FieldDifference[] =
      target?.doc === undefined
        ? [{ path: target?.damaged ?? '', kind: 'rows_invalid' }]
        : canonicalDiff(d.doc, target.doc).map((f) => ({
            path: f.path,
            kind: f.kind,
            ...(input.showValues === true && { source: valueText(f.left), target: valueText(f.right) }),
          }));
    found.add({ kind: 'content', id: idText(d.id), fields });
  }
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
