import { createHash } from 'node:crypto';
import { ObjectId } from 'bson';

/**
 * The ids of a transfer's two ledger entries, derived from its idempotency key alone, so every
 * retry of a transfer (on any app instance, in any phase, against either store) names the same
 * two entries: an entry that exists is the proof that that half of the transfer was booked.
 *
 * The ObjectId's time bytes are hash bytes too, not a clock: a retry must produce the same id.
 * That costs the ids their time order (Ferry's uuid keeps it only when the ObjectId had one).
 */
export interface TransferIds {
  readonly debit: ObjectId;
  readonly credit: ObjectId;
}

export function transferIds(key: string): TransferIds {
  return { debit: entryId(key, 'debit'), credit: entryId(key, 'credit') };
}

/** The entry's `idempotencyKey` (unique in the ledger): the transfer's key and the side. */
export function entryKey(key: string, side: 'debit' | 'credit'): string {
  return `${key}:${side}`;
}

function entryId(key: string, side: 'debit' | 'credit'): ObjectId {
  const digest = createHash('sha256').update(entryKey(key, side)).digest();
  return new ObjectId(digest.subarray(0, 12));
}
