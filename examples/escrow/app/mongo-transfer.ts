import type { Document, ObjectId } from 'bson';
import type { Model } from 'mongoose';
import { badRequest, insufficientFunds, keyReused, notFound } from './errors.js';
import { entryKey, transferIds } from './transfer-ids.js';
import {
  entryMatches,
  type StoredEntry,
  type TransferOutcome,
  type TransferRequest,
  transferResult,
} from './transfer-types.js';

/**
 * A transfer while MongoDB is the primary (phases `mongo` … `pg_read`), without transactions
 * (FerretDB has none, and the app must not need them).
 *
 * The invariant: a wallet's `balanceMinor` is the `balanceAfterMinor` of its entry number
 * `entrySeq`, and every entry's `balanceAfterMinor` is the one before it plus its amount; so
 * the balance equals the sum of the wallet's entries whenever no booking is half done.
 *
 * Booking one entry is two writes, each safe to repeat and each guarded so only one writer wins:
 * 1. insert the entry with `seq = entrySeq + 1` and the balance it leaves. The unique index
 *    `(wallet, seq)` lets one of two racing bookings take a place; the loser reads again.
 *    The entry's `_id` comes from the transfer's key, so a retry finds it instead of booking
 *    again (and the unique `idempotencyKey` refuses a second one in any case).
 * 2. move the wallet to the entry: `balanceMinor = balanceAfterMinor, entrySeq = seq`, only if
 *    `entrySeq` is still `seq - 1` (compare and set).
 * A process that dies between 1 and 2 leaves an entry one past the wallet's `entrySeq`. Every
 * later booking on that wallet first finishes it (step 2 on its behalf), and a retry of the
 * same transfer does so too; no one books after a half-done entry without completing it.
 *
 * A transfer is the debit, then the credit. A retry with the same key books whichever is
 * missing, so a transfer half done by a crashed request is completed by its retry, and the
 * answer is rebuilt from the two entries: the same answer every time. The acknowledgement is
 * sent only once both wallets include their entries.
 *
 * Reads here go straight to MongoDB's collections (no Mongoose query, so no read routing):
 * the write path decides on the primary's state. Writes go through the models, so Ferry's
 * plugin mirrors them to PostgreSQL in the mirrored phases.
 */
export interface MoneyModels {
  readonly Wallet: Model<Document>;
  readonly LedgerEntry: Model<Document>;
}

/** Give up after this many lost races in a row (a wallet hammered by many writers at once). */
const MAX_ROUNDS = 200;

export async function transferInMongo(
  models: MoneyModels,
  request: TransferRequest,
): Promise<TransferOutcome> {
  const ids = transferIds(request.key);
  const [from, to] = await Promise.all([wallet(models, request.from), wallet(models, request.to)]);
  if (from.currency !== to.currency) throw badRequest('the two wallets hold different currencies');
  const debit = await bookEntry(models, {
    id: ids.debit,
    idempotencyKey: entryKey(request.key, 'debit'),
    wallet: from,
    counterpart: request.to,
    amountMinor: -request.amountMinor,
    mayOverdraw: false,
  });
  const credit = await bookEntry(models, {
    id: ids.credit,
    idempotencyKey: entryKey(request.key, 'credit'),
    wallet: to,
    counterpart: request.from,
    amountMinor: request.amountMinor,
    mayOverdraw: true,
  });
  return {
    result: transferResult(request.key, debit.entry, credit.entry),
    booked: debit.booked || credit.booked,
  };
}

interface WalletState {
  readonly _id: ObjectId;
  readonly currency: string;
  readonly balanceMinor: number;
  readonly entrySeq: number;
}

interface Booking {
  readonly id: ObjectId;
  readonly idempotencyKey: string;
  /** The wallet as last read: the first try books on it, later tries read it again. */
  readonly wallet: WalletState;
  readonly counterpart: ObjectId;
  readonly amountMinor: number;
  /** Credits may not be refused: their debit is already booked. */
  readonly mayOverdraw: boolean;
}

async function wallet(models: MoneyModels, id: ObjectId): Promise<WalletState> {
  const found = (await models.Wallet.collection.findOne({ _id: id })) as WalletState | null;
  if (found === null) throw notFound('wallet', id.toHexString());
  return found;
}

/**
 * Book one entry (or find it booked), and return it once its wallet includes it, with
 * `booked` true when this call inserted it.
 *
 * The common case costs two writes: the insert at `entrySeq + 1`, and the wallet's move. The
 * rare cases are found by the insert failing: a duplicate `_id` (or key) is this transfer's
 * entry, booked before (a retry); a duplicate `(wallet, seq)` is another booking in that place,
 * finished or half done. Only then are they looked up. A debit the balance cannot cover is
 * looked up too before it is refused: it may be this transfer's, booked before.
 */
async function bookEntry(
  models: MoneyModels,
  booking: Booking,
): Promise<{ entry: StoredEntry; booked: boolean }> {
  let current = booking.wallet;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (round > 0) current = await wallet(models, current._id);
    const balanceAfterMinor = current.balanceMinor + booking.amountMinor;
    if (!booking.mayOverdraw && balanceAfterMinor < 0) {
      const earlier = await bookedBefore(models, booking);
      if (earlier !== undefined) return { entry: earlier, booked: false };
      // A half-done booking may be the wallet's real state: finish it and look again.
      if (await finishPending(models, current)) continue;
      throw insufficientFunds(current._id.toHexString());
    }
    const seq = current.entrySeq + 1;
    try {
      await models.LedgerEntry.create({
        _id: booking.id,
        wallet: current._id,
        entryType: 'transfer',
        amountMinor: booking.amountMinor,
        currency: current.currency,
        balanceAfterMinor,
        seq,
        subject: booking.counterpart,
        subjectModel: 'Wallet',
        idempotencyKey: booking.idempotencyKey,
      });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // This transfer's entry, booked before (a retry, or a concurrent one of the same key)?
      const earlier = await bookedBefore(models, booking);
      if (earlier !== undefined) return { entry: earlier, booked: false };
      // Another booking holds this place: finish it if it is half done, and try again.
      if (!(await finishPending(models, await wallet(models, current._id)))) await backOff(round);
      continue;
    }
    await moveWallet(models, current, seq, balanceAfterMinor);
    return {
      entry: {
        id: booking.id.toHexString(),
        wallet: current._id.toHexString(),
        seq,
        amountMinor: booking.amountMinor,
        balanceAfterMinor,
        currency: current.currency,
        subject: booking.counterpart.toHexString(),
      },
      booked: true,
    };
  }
  throw new Error(`wallet ${booking.wallet._id.toHexString()}: lost ${MAX_ROUNDS} booking races in a row`);
}

/** The booking's entry if it was booked before (then settled: its wallet includes it), else undefined. */
async function bookedBefore(models: MoneyModels, booking: Booking): Promise<StoredEntry | undefined> {
  const existing = await models.LedgerEntry.collection.findOne({ _id: booking.id });
  if (existing === null) return undefined;
  const entry = storedEntry(existing);
  if (!entryMatches(entry, booking.wallet._id, booking.counterpart, booking.amountMinor))
    throw keyReused(booking.idempotencyKey.replace(/:(debit|credit)$/, ''));
  await settle(models, booking.wallet._id, entry.seq);
  return entry;
}

/** Make the wallet include entries up to `seq`, finishing half-done bookings on the way. */
async function settle(models: MoneyModels, id: ObjectId, seq: number): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = await wallet(models, id);
    if (current.entrySeq >= seq) return;
    if (!(await finishPending(models, current)))
      throw new Error(
        `wallet ${id.toHexString()}: entry ${current.entrySeq + 1} is missing below entry ${seq}`,
      );
  }
  throw new Error(`wallet ${id.toHexString()}: could not settle entry ${seq}`);
}

/** If an entry was booked after the wallet's last one but the wallet never moved, move it. */
async function finishPending(models: MoneyModels, current: WalletState): Promise<boolean> {
  const next = await models.LedgerEntry.collection.findOne({
    wallet: current._id,
    seq: current.entrySeq + 1,
  });
  if (next === null) return false;
  await moveWallet(models, current, next.seq as number, next.balanceAfterMinor as number);
  return true;
}

/** Step 2: compare and set; when another writer already moved the wallet, nothing happens. */
async function moveWallet(
  models: MoneyModels,
  current: WalletState,
  seq: number,
  balanceMinor: number,
): Promise<void> {
  await models.Wallet.updateOne(
    { _id: current._id, entrySeq: seq - 1 },
    { $set: { balanceMinor, entrySeq: seq } },
  );
}

function storedEntry(doc: Document): StoredEntry {
  return {
    id: (doc._id as ObjectId).toHexString(),
    wallet: (doc.wallet as ObjectId).toHexString(),
    seq: doc.seq as number,
    amountMinor: doc.amountMinor as number,
    balanceAfterMinor: doc.balanceAfterMinor as number,
    currency: doc.currency as string,
    subject: (doc.subject as ObjectId | undefined)?.toHexString(),
  };
}

/**
 * After a lost race, wait a random moment that grows with the losses: writers that collided
 * would otherwise all collide again at once, and a hot wallet's bookings would cost each
 * writer a round per booking ahead of it.
 */
function backOff(round: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** round)));
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 11000;
}
