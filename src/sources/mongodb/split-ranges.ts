import type { Document } from 'bson';
import type { Collection } from 'mongodb';
import { idIntervalFilter } from './bson-order.js';
import { isUnsupportedFilter } from './mongo-errors.js';
import type { TypeAliasSupport } from './read-batches.js';

/**
 * A contiguous slice of a collection in `_id` order, for parallel readers. Bounds are
 * wrapped (`{ id }`) so that any `_id` value, `null` included, can be one; an absent bound is
 * open. `from` is inclusive and `to` exclusive, so neighbouring ranges share one boundary
 * value and no document can fall into two ranges or into none.
 */
export interface IdRange {
  /** First `_id` in the range; absent = from the first document. */
  readonly from?: { readonly id: unknown };
  /** First `_id` after the range; absent = through the last document, including later inserts. */
  readonly to?: { readonly id: unknown };
}

/**
 * Split a collection into at most `n` contiguous `_id` ranges of about equal size.
 *
 * Boundaries are the `_id`s found by skipping `count / n` documents in `_id` order, each
 * search starting at the previous boundary, so boundaries strictly increase even if the
 * collection changes meanwhile. The first range is open below and the last open above, so
 * the ranges cover every possible `_id`: concurrent writes can only unbalance them, never
 * open a gap. `$bucketAuto` and `$sample` would be cheaper on real MongoDB but FerretDB 1.24
 * implements neither; skip over the `_id` index walks keys only, which is fast enough on both.
 *
 * @example
 * import type { Collection } from 'mongodb';
 * declare const collection: Collection;
 * declare const types: TypeAliasSupport;
 * declare const source: MongoSource;
 * declare function load(batches: AsyncIterable<SourceBatch>): Promise<void>;
 * const ranges = await splitIdRanges(collection, 4, types);
 * await Promise.all(ranges.map((range) => load(source.readRange('orders', range))));
 */
export async function splitIdRanges(
  collection: Collection,
  n: number,
  types: TypeAliasSupport,
): Promise<readonly IdRange[]> {
  const parts = Math.max(1, Math.floor(n));
  const count = await collection.countDocuments({});
  const step = Math.floor(count / parts);
  if (parts === 1 || step === 0) return [{}];
  const boundaries: unknown[] = [];
  for (let i = 1; i < parts; i++) {
    const previous = boundaries.at(-1);
    const next = () =>
      collection
        .find(
          boundaries.length === 0
            ? {}
            : idIntervalFilter({ lower: { id: previous, inclusive: true } }, types.aliases),
          {
            sort: { _id: 1 },
            hint: { _id: 1 },
            projection: { _id: 1 },
            skip: step,
            limit: 1,
            promoteValues: false,
          },
        )
        .toArray();
    let found: Document | undefined;
    try {
      [found] = await next();
    } catch (error) {
      // The first filter naming `$type` aliases teaches us which ones the server knows.
      if (!isUnsupportedFilter(error) || !(await types.narrow(collection))) throw error;
      [found] = await next();
    }
    // Fewer documents than counted (deleted meanwhile): stop with fewer, larger ranges.
    if (!found) break;
    boundaries.push(found._id);
  }
  const ranges: IdRange[] = [];
  for (let i = 0; i <= boundaries.length; i++) {
    ranges.push({
      ...(i > 0 && { from: { id: boundaries[i - 1] } }),
      ...(i < boundaries.length && { to: { id: boundaries[i] } }),
    });
  }
  return ranges;
}
