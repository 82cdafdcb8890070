import { busyIndex, docRandom, existingBefore, type MarketplaceContext, recentIndex } from './context.js';
import { CURRENCIES, type Currency, minorUnits } from './money.js';

/**
 * Cross-collection facts: the few properties other collections must agree on (who bought
 * what, in which currency, for how much). Each is a pure function of the index, drawn from its
 * own stream, so a payment can learn its request's currency by recomputing three numbers
 * instead of keeping requests in memory.
 */

/** What payments, chats and notifications need to know about a purchase request. */
export interface RequestFacts {
  readonly buyer: number;
  readonly seller: number;
  readonly currency: Currency;
  /** The request's total in minor units; items and milestones add up to it exactly. */
  readonly totalMinor: number;
  readonly milestones: number;
}

/**
 * Facts of purchase request `index`.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const { buyer, seller, currency } = requestFacts(ctx, 17);
 */
export function requestFacts(ctx: MarketplaceContext, index: number): RequestFacts {
  const rng = docRandom(ctx, 'facts', index * 2);
  // At least two users, so even the very first request has a buyer and a different seller.
  const users = Math.max(
    Math.min(2, ctx.counts.users),
    existingBefore(ctx, 'purchaseRequests', index, 'users'),
  );
  const buyer = rng.int(0, users - 1);
  let seller = busyIndex(rng, users);
  // Nobody buys from themselves (unless there is only one user at all).
  if (seller === buyer && users > 1) seller = (seller + 1) % users;
  const currency = rng.pick(CURRENCIES);
  const major = Math.max(5, Math.floor(Math.exp(rng.float() * Math.log(20_000))));
  const totalMinor = minorUnits(currency) === 0 ? major * 100 : major * 100 + rng.pick([0, 0, 50, 99]);
  const milestones = rng.pick([1, 1, 1, 2, 2, 3, 4]);
  return { buyer, seller, currency, totalMinor, milestones };
}

/**
 * Milestone `m` of a request's `count` milestones: equal parts, the remainder on the last one,
 * so the parts add up to the total to the cent.
 *
 * @example
 * milestoneMinor(1001, 0, 2); // 500
 * milestoneMinor(1001, 1, 2); // 501
 */
export function milestoneMinor(totalMinor: number, m: number, count: number): number {
  const part = Math.floor(totalMinor / count);
  return m === count - 1 ? totalMinor - part * (count - 1) : part;
}

export type Provider = 'stripe' | 'paypal' | 'bank';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'refunded';

/** What the ledger and notifications need to know about a payment. */
export interface PaymentFacts {
  readonly request: number;
  /** A payout pays the request's seller (target a User); otherwise the buyer pays into escrow. */
  readonly payout: boolean;
  readonly currency: Currency;
  readonly amountMinor: number;
  readonly provider: Provider;
  readonly status: PaymentStatus;
  readonly providerFeeMinor: number;
  readonly platformFeeMinor: number;
}

/**
 * Facts of payment `index`: which milestone of which request it pays, and how.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const { amountMinor, currency, payout } = paymentFacts(ctx, 3);
 */
export function paymentFacts(ctx: MarketplaceContext, index: number): PaymentFacts {
  const rng = docRandom(ctx, 'facts', index * 2 + 1);
  const request = recentIndex(rng, existingBefore(ctx, 'payments', index, 'purchaseRequests'));
  const r = requestFacts(ctx, request);
  const payout = rng.chance(0.3);
  const gross = milestoneMinor(r.totalMinor, rng.int(0, r.milestones - 1), r.milestones);
  const platformFeeMinor = Math.round(gross * 0.05);
  const provider: Provider = payout
    ? 'bank'
    : rng.chance(0.7)
      ? 'stripe'
      : rng.chance(0.9)
        ? 'paypal'
        : 'bank';
  const providerFeeMinor =
    provider === 'stripe'
      ? Math.round(gross * 0.029) + 30
      : provider === 'paypal'
        ? Math.round(gross * 0.0349) + 49
        : 0;
  const roll = rng.float();
  const status: PaymentStatus =
    roll < 0.82 ? 'succeeded' : roll < 0.9 ? 'pending' : roll < 0.96 ? 'failed' : 'refunded';
  return {
    request,
    payout,
    currency: r.currency,
    amountMinor: payout ? gross - platformFeeMinor : gross,
    provider,
    status,
    providerFeeMinor,
    platformFeeMinor,
  };
}
