/**
 * The live MongoDB source: `openMongoSource(uri)` gives a {@link MongoSource} that lists,
 * counts, reads (resumably, in `_id` order) and splits collections for parallel readers.
 *
 * @example
 * import { openMongoSource } from 'ferry';
 * const source = await openMongoSource('mongodb://localhost/shop');
 * const ranges = await source.splitRanges('orders', 4);
 */
export {
  ALL_TYPE_ALIASES,
  BSON_BRACKETS,
  bracketOf,
  type IdBound,
  type IdInterval,
  idIntervalFilter,
} from './bson-order.js';
export { normalizeIndex } from './indexes.js';
export { type MongoErrorContext, mongoError } from './mongo-errors.js';
export { type MongoSource, type MongoSourceOptions, openMongoSource } from './mongo-source.js';
export { describeId } from './read-batches.js';
export type { IdRange } from './split-ranges.js';
export { type MongoUriParts, parseMongoUri } from './uri.js';
