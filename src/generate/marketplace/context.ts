import { ObjectId } from 'bson';
import { Random } from '../random.js';

/**
 * The collections of the marketplace, in the order they are generated and written. Each has a
 * fixed tag: the tag keeps the ids and random streams of one collection apart from another's.
 */
export const MARKETPLACE_COLLECTIONS = [
  'users',
  'purchaseRequests',
  'payments',
  'ledger',
  'chats',
  'notifications',
] as const;
export type MarketplaceCollection = (typeof MARKETPLACE_COLLECTIONS)[number];

/**
 * Messiness knobs: how far the data strays from the tidy shape its Mongoose schema promises.
 * Every knob is a probability in [0, 1]. A seed names a dataset only together with its knobs.
 */
export interface MarketplaceMessiness {
  /**
   * Share of documents written by an older version of the app, so a field has another type
   * or shape: `users.balance` as a Double or a string instead of Decimal128, `users.roles` as
   * one string, `notifications.payload` as a JSON string, chat messages without `reactions`.
   * Default 0.02.
   */
  readonly schemaDrift?: number;
  /**
   * Share of references that point at a document that no longer exists (deleted without a
   * cascade, as happens in every Mongo app without foreign keys). Default 0.005.
   */
  readonly danglingRefs?: number;
  /**
   * Scales how often optional fields are present (`phone`, `profile.bio`, `items[].options`,
   * `messages[].edits`, …): 1 keeps each field's own realistic rate, 0 leaves every optional
   * field out, 2 doubles the rates (capped at 1). Default 1.
   */
  readonly optionalFields?: number;
}

/** Knobs with their defaults filled in. */
export type Messiness = Required<MarketplaceMessiness>;

export const DEFAULT_MESSINESS: Messiness = { schemaDrift: 0.02, danglingRefs: 0.005, optionalFields: 1 };

/** Everything a collection generator needs: pure data, shared by all of them. */
export interface MarketplaceContext {
  readonly seed: number;
  readonly counts: Readonly<Record<MarketplaceCollection, number>>;
  readonly mess: Messiness;
}

/** 2023-03-01T00:00:00Z: the marketplace's launch. Fixed, so output never depends on "now". */
export const EPOCH_SECONDS = 1_677_628_800;
/** Two years of history. */
export const SPAN_SECONDS = 2 * 365 * 86_400;

const TAGS: Record<MarketplaceCollection | 'messages' | 'facts' | 'deleted', number> = {
  users: 1,
  purchaseRequests: 2,
  payments: 3,
  ledger: 4,
  chats: 5,
  notifications: 6,
  messages: 7,
  facts: 8,
  deleted: 9,
};
export type StreamTag = keyof typeof TAGS;

/** Mixes seed and tag into 32 bits (murmur3's finalizer), so nearby seeds give unrelated streams. */
function mix(seed: number, tag: number): number {
  let z = (seed ^ Math.imul(tag, 0x9e3779b1)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The random stream of document `index` of a collection: a pure function of (seed, tag,
 * index). Seeding per document rather than per collection is what lets any document (or a
 * fact about it, see `facts.ts`) be recomputed from its index alone, with nothing kept in
 * memory. `imul` by an odd constant is a bijection on 32 bits, so distinct indexes never share
 * a stream.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const rng = docRandom(ctx, 'users', 41); // the same draws every time for user #41
 */
export function docRandom(ctx: MarketplaceContext, tag: StreamTag, index: number): Random {
  return new Random(mix(ctx.seed, TAGS[tag]) ^ Math.imul(index + 1, 0x2c1b3c6d));
}

/**
 * When document `index` of `count` was created, in Unix seconds. Quadratic growth: the
 * marketplace gets busier over its two years (density grows linearly), so most documents are
 * recent, like real data. Monotonic in `index`, so `_id` order is insertion order.
 *
 * @example
 * createdSeconds(0, 1000); // shortly after launch
 * createdSeconds(999, 1000); // close to EPOCH_SECONDS + SPAN_SECONDS
 */
export function createdSeconds(index: number, count: number): number {
  return EPOCH_SECONDS + Math.floor(SPAN_SECONDS * Math.sqrt((index + 0.5) / Math.max(1, count)));
}

/**
 * The `_id` of document `index` of a collection, laid out like a driver-made ObjectId:
 * 4 bytes of creation time, 5 "process" bytes, 3 bytes of counter. The process bytes carry
 * the seed and collection, plus bits 24..31 of the index, and the counter its low 24 bits, so
 * ids are unique within and across collections for any index below 2^32. `deleted` marks ids
 * of documents that were deleted: such an id is never emitted, only referenced (a dangling
 * reference), and cannot equal a live id because that one byte differs.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * objectIdFor(ctx, 'users', 7).equals(objectIdFor(ctx, 'users', 7)); // true, nothing stored
 */
export function objectIdFor(
  ctx: MarketplaceContext,
  collection: MarketplaceCollection,
  index: number,
  deleted = false,
): ObjectId {
  return makeObjectId(
    createdSeconds(index, ctx.counts[collection]),
    mix(ctx.seed, TAGS[collection]),
    index,
    deleted ? 1 : 0,
  );
}

/**
 * The id of message `message` (below 256) in chat `chat`, created at `seconds`.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * messageObjectId(ctx, 12, 0, createdSeconds(12, ctx.counts.chats));
 */
export function messageObjectId(
  ctx: MarketplaceContext,
  chat: number,
  message: number,
  seconds: number,
): ObjectId {
  return makeObjectId(seconds, mix(ctx.seed, TAGS.messages), chat, 2 + (message & 0xff));
}

function makeObjectId(seconds: number, process: number, index: number, variant: number): ObjectId {
  const b = new Uint8Array(12);
  b[0] = seconds >>> 24;
  b[1] = seconds >>> 16;
  b[2] = seconds >>> 8;
  b[3] = seconds;
  b[4] = process >>> 24;
  b[5] = process >>> 16;
  b[6] = process >>> 8;
  b[7] = (process ^ variant) & 0xff;
  b[8] = index >>> 24;
  // The counter starts at a seed-dependent value, as a driver's does (random at process start).
  const counter = ((Math.imul(process, 0x2c1b3c6d) >>> 8) + index) & 0xffffff;
  b[9] = counter >>> 16;
  b[10] = counter >>> 8;
  b[11] = counter;
  return new ObjectId(b);
}

/**
 * A reference to document `index` of `collection`, or, with the configured dangling rate, to
 * a deleted one. Draws from `rng` exactly once either way, so the rate does not shift what
 * the rest of the document looks like.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const ctx: MarketplaceContext;
 * declare const doc: Document;
 * declare const rng: Random;
 * declare const buyer: number;
 * doc.buyerId = reference(ctx, rng, 'users', buyer);
 */
export function reference(
  ctx: MarketplaceContext,
  rng: Random,
  collection: MarketplaceCollection,
  index: number,
): ObjectId {
  const dangling = rng.chance(ctx.mess.danglingRefs) || ctx.counts[collection] === 0;
  return objectIdFor(ctx, collection, index, dangling);
}

/**
 * How many documents of `target` existed when document `index` of `source` was created (at
 * least 1): both follow the same growth curve, so this is a proportion. References pick from
 * these, so nothing points at a document from its own future.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * declare const rng: Random;
 * declare const i: number;
 * const buyer = rng.int(0, existingBefore(ctx, 'purchaseRequests', i, 'users') - 1);
 */
export function existingBefore(
  ctx: MarketplaceContext,
  source: MarketplaceCollection,
  index: number,
  target: MarketplaceCollection,
): number {
  const n = ctx.counts[target];
  return Math.max(1, Math.min(n, Math.floor((n * (index + 1)) / Math.max(1, ctx.counts[source]))));
}

/**
 * An index in [0, limit) biased towards `limit - 1`: payments, chats and notifications mostly
 * concern recent requests.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * declare const rng: Random;
 * declare const i: number;
 * const request = recentIndex(rng, existingBefore(ctx, 'payments', i, 'purchaseRequests'));
 */
export function recentIndex(rng: Random, limit: number): number {
  const r = rng.float();
  return Math.max(0, limit - 1 - Math.floor(limit * r * r * r * r));
}

/**
 * An index in [0, limit) biased towards 0: early users are the busiest buyers and sellers.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * declare const rng: Random;
 * declare const i: number;
 * const seller = busyIndex(rng, existingBefore(ctx, 'purchaseRequests', i, 'users'));
 */
export function busyIndex(rng: Random, limit: number): number {
  return Math.floor(limit * rng.float() * rng.float());
}

/**
 * True with `base` probability scaled by the optional-fields knob.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const ctx: MarketplaceContext;
 * declare const doc: Document;
 * declare const rng: Random;
 * if (optional(ctx, rng, 0.05)) doc.phone = `+49 ${rng.int(100, 999)} ${rng.int(1000, 9999)}`;
 */
export function optional(ctx: MarketplaceContext, rng: Random, base: number): boolean {
  return rng.chance(Math.min(1, base * ctx.mess.optionalFields));
}

/**
 * A Date at `seconds` plus a random millisecond part (ObjectIds have second resolution, Mongoose
 * timestamps do not).
 *
 * @example
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * declare const rng: Random;
 * declare const i: number;
 * declare const n: number;
 * doc.createdAt = dateAt(rng, createdSeconds(i, n));
 */
export function dateAt(rng: Random, seconds: number): Date {
  return new Date(seconds * 1000 + rng.int(0, 999));
}
