import type { Document } from 'bson';
import { FerryError } from '../../core/errors.js';
import type { IndexSpec } from '../../sources/types.js';
import { chatDocument } from './chats.js';
import {
  DEFAULT_MESSINESS,
  MARKETPLACE_COLLECTIONS,
  type MarketplaceCollection,
  type MarketplaceContext,
  type MarketplaceMessiness,
} from './context.js';
import { MARKETPLACE_INDEXES } from './indexes.js';
import { ledgerEntries } from './ledger.js';
import { notificationDocument } from './notifications.js';
import { paymentDocument } from './payments.js';
import { purchaseRequestDocument } from './purchase-requests.js';
import { userDocument } from './users.js';

/**
 * Share of the documents per collection. A ledger posting is two entries and most requests
 * see several payments and notifications, so the append-only collections dominate, as they do
 * in a real escrow app; chats are few but the largest documents.
 */
export const MARKETPLACE_PROPORTIONS: Readonly<Record<MarketplaceCollection, number>> = {
  users: 0.08,
  purchaseRequests: 0.12,
  payments: 0.15,
  ledger: 0.35,
  chats: 0.05,
  notifications: 0.25,
};

export interface MarketplaceOptions extends MarketplaceMessiness {
  /** Any 32-bit unsigned integer; with `scale` and the knobs it names the dataset exactly. */
  readonly seed: number;
  /** Total documents across all collections (split by `MARKETPLACE_PROPORTIONS`). */
  readonly scale: number;
}

/** One generated collection, ready for `writeArchive` or `writeDumpDirectory`. */
export interface MarketplaceCollectionData {
  readonly name: MarketplaceCollection;
  readonly indexes: readonly IndexSpec[];
  readonly count: number;
  /** A fresh, lazy pass over the documents on every call; each pass yields the same documents. */
  readonly docs: () => Iterable<Document>;
}

/**
 * How many documents each collection gets at `scale`: proportional, largest remainders
 * rounded up, so the counts add up to `scale` exactly.
 *
 * @example
 * marketplaceCounts(1_000_000).ledger; // 350000
 */
export function marketplaceCounts(scale: number): Record<MarketplaceCollection, number> {
  const exact = MARKETPLACE_COLLECTIONS.map((name) => ({
    name,
    value: scale * MARKETPLACE_PROPORTIONS[name],
  }));
  const counts = Object.fromEntries(exact.map((e) => [e.name, Math.floor(e.value)])) as Record<
    MarketplaceCollection,
    number
  >;
  let left = scale - Object.values(counts).reduce((a, b) => a + b, 0);
  const byRemainder = [...exact].sort(
    (a, b) => b.value - Math.floor(b.value) - (a.value - Math.floor(a.value)),
  );
  for (const { name } of byRemainder) {
    if (left <= 0) break;
    counts[name] += 1;
    left -= 1;
  }
  return counts;
}

/**
 * A realistic escrow marketplace, as a Mongoose app would have stored it: users, purchase
 * requests with embedded arrays, payments with a polymorphic `target`, an append-only ledger
 * with int64 sequence numbers, chats with embedded messages, and notifications with a TTL.
 * Every reference is computed from the index of the document it points at, never looked up,
 * so memory stays constant at any scale and the collections can be read in any interleaving.
 * Same seed, scale and knobs: byte-identical documents.
 *
 * @example
 * for (const collection of generateMarketplace({ seed: 42, scale: 10_000 })) {
 *   for (const doc of collection.docs()) console.log(collection.name, doc._id);
 * }
 */
export function generateMarketplace(options: MarketplaceOptions): MarketplaceCollectionData[] {
  const { seed, scale } = options;
  if (!Number.isSafeInteger(scale) || scale < 0 || scale >= 2 ** 32) {
    throw new FerryError(`marketplace scale ${scale} is not a document count`, {
      code: 'GENERATE_BAD_SCALE',
      category: 'usage',
      hint: 'use a whole number of documents, e.g. 1000000',
    });
  }
  const mess = {
    schemaDrift: rate(options.schemaDrift, DEFAULT_MESSINESS.schemaDrift, 'schemaDrift'),
    danglingRefs: rate(options.danglingRefs, DEFAULT_MESSINESS.danglingRefs, 'danglingRefs'),
    optionalFields: Math.max(0, options.optionalFields ?? DEFAULT_MESSINESS.optionalFields),
  };
  const ctx: MarketplaceContext = { seed: seed >>> 0, counts: marketplaceCounts(scale), mess };
  const perIndex: Record<
    Exclude<MarketplaceCollection, 'ledger'>,
    (c: MarketplaceContext, i: number) => Document
  > = {
    users: userDocument,
    purchaseRequests: purchaseRequestDocument,
    payments: paymentDocument,
    chats: chatDocument,
    notifications: notificationDocument,
  };
  return MARKETPLACE_COLLECTIONS.map((name) => ({
    name,
    indexes: MARKETPLACE_INDEXES[name],
    count: ctx.counts[name],
    docs: () => (name === 'ledger' ? ledgerEntries(ctx) : byIndex(ctx, ctx.counts[name], perIndex[name])),
  }));
}

function* byIndex(
  ctx: MarketplaceContext,
  count: number,
  make: (ctx: MarketplaceContext, index: number) => Document,
): Generator<Document, void, undefined> {
  for (let i = 0; i < count; i++) yield make(ctx, i);
}

function rate(value: number | undefined, fallback: number, knob: string): number {
  const r = value ?? fallback;
  if (!(r >= 0 && r <= 1)) {
    throw new FerryError(`marketplace knob ${knob}=${r} is not a probability`, {
      code: 'GENERATE_BAD_KNOB',
      category: 'usage',
      hint: `give ${knob} a value from 0 to 1`,
    });
  }
  return r;
}
