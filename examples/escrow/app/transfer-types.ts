import type { ObjectId } from 'bson';

/** A transfer as the client asks for it. `key` is the `Idempotency-Key` header. */
export interface TransferRequest {
  readonly key: string;
  readonly from: ObjectId;
  readonly to: ObjectId;
  readonly amountMinor: number;
}

/** One booked ledger entry, as the response shows it. */
export interface BookedEntry {
  readonly id: string;
  readonly wallet: string;
  /** The entry's place in its wallet's ledger. */
  readonly seq: number;
  readonly amountMinor: number;
  readonly balanceAfterMinor: number;
}

/**
 * The answer to a transfer, built from the two stored entries alone: so the first answer and
 * every retry's answer are the same, whichever store and instance gave them.
 */
export interface TransferResult {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly debit: BookedEntry;
  readonly credit: BookedEntry;
}

/** A transfer's answer, and whether this call booked (part of) it, or found it all booked before. */
export interface TransferOutcome {
  readonly result: TransferResult;
  readonly booked: boolean;
}

/** The fields of a ledger entry the transfer code reads, in either store. */
export interface StoredEntry {
  readonly id: string;
  readonly wallet: string;
  readonly seq: number;
  readonly amountMinor: number;
  readonly balanceAfterMinor: number;
  readonly currency: string;
  /** The counterpart wallet. */
  readonly subject: string | undefined;
}

/** The result of a transfer from its two entries. */
export function transferResult(key: string, debit: StoredEntry, credit: StoredEntry): TransferResult {
  const booked = (e: StoredEntry): BookedEntry => ({
    id: e.id,
    wallet: e.wallet,
    seq: e.seq,
    amountMinor: e.amountMinor,
    balanceAfterMinor: e.balanceAfterMinor,
  });
  return {
    key,
    from: debit.wallet,
    to: credit.wallet,
    amountMinor: credit.amountMinor,
    currency: debit.currency,
    debit: booked(debit),
    credit: booked(credit),
  };
}

/** Whether a stored entry belongs to this request (the same key used for the same transfer). */
export function entryMatches(
  entry: StoredEntry,
  wallet: ObjectId,
  counterpart: ObjectId,
  amount: number,
): boolean {
  return (
    entry.wallet === wallet.toHexString() &&
    entry.subject === counterpart.toHexString() &&
    entry.amountMinor === amount
  );
}
