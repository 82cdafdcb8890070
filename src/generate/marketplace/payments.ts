import { type Document, Int32 } from 'bson';
import type { Random } from '../random.js';
import {
  createdSeconds,
  dateAt,
  docRandom,
  type MarketplaceContext,
  objectIdFor,
  reference,
} from './context.js';
import { type PaymentFacts, paymentFacts, requestFacts } from './facts.js';
import { decimalFromMinor } from './money.js';
import { fillPattern, token } from './words.js';

/**
 * Payment `index`. `target` is a Mongoose `refPath` reference: with `targetType:
 * 'PurchaseRequest'` the buyer paid a milestone into escrow, with `targetType: 'User'` the
 * platform paid a seller out. One field, ids of two collections: the discriminator case of
 * the mapping. `provider` has a different nested shape per payment provider, as whatever the
 * provider's API returned was stored as-is.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * const payment = paymentDocument(ctx, 0);
 * payment.targetType; // 'PurchaseRequest' or 'User'
 */
export function paymentDocument(ctx: MarketplaceContext, index: number): Document {
  const facts = paymentFacts(ctx, index);
  const rng = docRandom(ctx, 'payments', index);
  const createdAt = dateAt(rng, createdSeconds(index, ctx.counts.payments));
  const target = facts.payout
    ? reference(ctx, rng, 'users', requestFacts(ctx, facts.request).seller)
    : reference(ctx, rng, 'purchaseRequests', facts.request);
  const fees: Document[] = [];
  if (facts.providerFeeMinor > 0)
    fees.push({ kind: 'provider', amount: decimalFromMinor(facts.providerFeeMinor, facts.currency) });
  if (!facts.payout)
    fees.push({ kind: 'platform', amount: decimalFromMinor(facts.platformFeeMinor, facts.currency) });
  // Cross-border card payments pay FX on top; most pay nothing extra.
  if (rng.chance(0.05)) fees.push({ kind: 'fx', amount: decimalFromMinor(rng.int(10, 900), facts.currency) });

  const settled = facts.status === 'succeeded' || facts.status === 'refunded';
  const updatedAt = settled ? new Date(createdAt.getTime() + rng.int(2_000, 3_600_000)) : createdAt;
  return {
    _id: objectIdFor(ctx, 'payments', index),
    amount: decimalFromMinor(facts.amountMinor, facts.currency),
    currency: facts.currency,
    status: facts.status,
    target,
    targetType: facts.payout ? 'User' : 'PurchaseRequest',
    provider: provider(rng, facts),
    fees,
    createdAt,
    updatedAt,
    __v: new Int32(settled ? 1 : 0),
  };
}

/** Each provider's own response shape, stored verbatim: nothing lines up across providers. */
function provider(rng: Random, facts: PaymentFacts): Document {
  switch (facts.provider) {
    case 'stripe': {
      const doc: Document = {
        name: 'stripe',
        paymentIntent: `pi_${token(rng, 24)}`,
        chargeId: `ch_${token(rng, 24)}`,
        card: {
          brand: rng.pick(['visa', 'mastercard', 'amex']),
          last4: fillPattern(rng, '####'),
          expMonth: new Int32(rng.int(1, 12)),
          expYear: new Int32(rng.int(2025, 2031)),
        },
        outcome: {
          networkStatus: 'approved_by_network',
          riskLevel: rng.pick(['normal', 'normal', 'elevated']),
        },
      };
      if (facts.status === 'failed')
        doc.lastError = {
          code: rng.pick(['card_declined', 'expired_card']),
          declineCode: 'insufficient_funds',
        };
      return doc;
    }
    case 'paypal':
      return {
        name: 'paypal',
        orderId: fillPattern(rng, '#AA#####AA######A'),
        payer: {
          payerId: fillPattern(rng, 'AAAAAAAAAAAAA'),
          emailAddress: `buyer${rng.int(1, 99_999)}@example.com`,
          address: { countryCode: rng.pick(['DE', 'FR', 'GB', 'US', 'PL']) },
        },
        captureIds: facts.status === 'succeeded' ? [fillPattern(rng, '#AA#####AA######A')] : [],
      };
    case 'bank':
      return {
        name: 'bank',
        iban: `${rng.pick(['DE', 'FR', 'NL', 'PL'])}${fillPattern(rng, '## #### #### #### #### ##')}`,
        reference: `ESCROW-${token(rng, 10).toUpperCase()}`,
        ...(facts.payout && { batchId: `po_${token(rng, 16)}` }),
      };
  }
}
