import { type Document, Int32, Long } from 'bson';
import {
  createdSeconds,
  dateAt,
  docRandom,
  type MarketplaceContext,
  objectIdFor,
  reference,
} from './context.js';
import { paymentFacts } from './facts.js';
import { CURRENCIES, decimalFromMinor } from './money.js';

/**
 * The first `seq` of a ledger of `count` entries. The ledger continues the counter of the
 * system it replaced, which was close to 2^31: about half of the entries have a `seq` beyond
 * 2^31, where an `integer` column overflows and only `bigint` holds them.
 *
 * @example
 * firstSeq(1000); // 2147483148
 */
export function firstSeq(count: number): number {
  return 2 ** 31 - Math.floor(count / 2);
}

/**
 * The append-only ledger, `count` entries in order. Double-entry: each posting is a pair of
 * entries with opposite amounts on two accounts, and `balanceAfter` is the account's running
 * balance, which is why this collection is generated as a stream rather than per index (the
 * running balances are the only state, one number per account code, a few dozen at most).
 * Most postings book a payment (`paymentId`, and `requestId` when it paid into escrow); a few
 * are manual adjustments with `paymentId: null`.
 *
 * @example
 * declare const ctx: MarketplaceContext;
 * let total = 0;
 * for (const entry of ledgerEntries(ctx)) total += Number(entry.amount.toString());
 */
export function* ledgerEntries(ctx: MarketplaceContext): Generator<Document, void, undefined> {
  const count = ctx.counts.ledger;
  const pairs = Math.ceil(count / 2);
  const balances = new Map<string, number>();
  let seq = firstSeq(count);
  let emitted = 0;
  for (let pair = 0; emitted < count; pair++) {
    const rng = docRandom(ctx, 'ledger', pair);
    const payment = Math.min(
      Math.max(0, ctx.counts.payments - 1),
      Math.floor((pair * ctx.counts.payments) / Math.max(1, pairs)),
    );
    const adjustment = ctx.counts.payments === 0 || rng.chance(0.03);
    const facts = adjustment ? undefined : paymentFacts(ctx, payment);
    const currency = facts?.currency ?? rng.pick(CURRENCIES);
    let amount = facts?.amountMinor ?? rng.int(-5_000, 5_000);
    let entryType: string;
    let debit: string;
    let credit: string;
    if (facts === undefined) {
      entryType = 'adjustment';
      debit = `adjustments:${currency}`;
      credit = `revenue:fees:${currency}`;
    } else if (facts.status === 'pending' || facts.status === 'failed') {
      entryType = facts.status === 'failed' ? 'authorization_void' : 'authorization';
      debit = `pending:${facts.provider}:${currency}`;
      credit = `pending:clearing:${currency}`;
    } else if (facts.payout) {
      entryType = facts.status === 'refunded' ? 'payout_return' : 'escrow_release';
      debit = `escrow:${currency}`;
      credit = `payouts:${currency}`;
    } else {
      entryType = facts.status === 'refunded' ? 'refund' : 'escrow_hold';
      debit = `cash:${facts.provider}:${currency}`;
      credit = `escrow:${currency}`;
    }
    if (facts?.status === 'refunded') amount = -amount;

    const paymentId = facts === undefined ? null : reference(ctx, rng, 'payments', payment);
    const requestId =
      facts !== undefined && !facts.payout
        ? reference(ctx, rng, 'purchaseRequests', facts.request)
        : undefined;
    for (let leg = 0; leg < 2 && emitted < count; leg++) {
      const account = leg === 0 ? debit : credit;
      const signed = leg === 0 ? amount : -amount;
      const balance = (balances.get(account) ?? 0) + signed;
      balances.set(account, balance);
      const at = dateAt(rng, createdSeconds(emitted, count));
      const doc: Document = {
        _id: objectIdFor(ctx, 'ledger', emitted),
        account,
        entryType,
        amount: decimalFromMinor(signed, currency),
        balanceAfter: decimalFromMinor(balance, currency),
        currency,
        paymentId,
      };
      if (requestId !== undefined) doc.requestId = requestId;
      doc.at = at;
      doc.seq = Long.fromNumber(seq);
      doc.createdAt = at;
      doc.__v = new Int32(0);
      emitted++;
      // A rolled-back transaction burns sequence numbers: gaps are normal, order is not negotiable.
      seq += rng.chance(0.01) ? rng.int(2, 5) : 1;
      yield doc;
    }
  }
}
