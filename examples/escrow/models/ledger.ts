import mongoose, { Schema, type Types } from 'mongoose';
import { CURRENCIES } from './wallets.js';

export const ENTRY_TYPES = [
  'deposit',
  'withdrawal',
  'transfer',
  'escrow_hold',
  'escrow_release',
  'fee',
] as const;

/** One booking. Declared by hand: the inferred type would name bson's internals (Decimal128). */
export interface LedgerEntryFields {
  wallet: Types.ObjectId;
  entryType: (typeof ENTRY_TYPES)[number];
  amountMinor: number;
  currency: (typeof CURRENCIES)[number];
  balanceAfterMinor: number;
  seq: number;
  subject?: Types.ObjectId;
  subjectModel?: 'PurchaseRequest' | 'Wallet';
  idempotencyKey: string;
  reversalOf?: Types.ObjectId;
  fxRate?: Types.Decimal128;
  createdAt: Date;
}

const ledgerEntrySchema = new Schema<LedgerEntryFields>(
  {
    wallet: { type: Schema.Types.ObjectId, ref: 'Wallet', required: true, index: true },
    entryType: { type: String, enum: ENTRY_TYPES, required: true },
    // Signed, in minor units: FerretDB cannot hold Decimal128, so money is an integer here.
    amountMinor: { type: Number, required: true, validate: Number.isInteger },
    currency: { type: String, enum: CURRENCIES, required: true },
    balanceAfterMinor: { type: Number, required: true, validate: Number.isInteger },
    // The entry's place in its wallet's ledger: 1, 2, 3, … with no gap. The wallet's `entrySeq`
    // says how many of them its balance includes, so a booking whose wallet update was lost
    // (the app has no multi-document transactions on MongoDB) is found and finished by the
    // next writer: see examples/escrow/app/book-entry.ts.
    seq: { type: Number, required: true, min: 1, validate: Number.isInteger },
    // What the entry is about: the purchase request it holds or releases escrow for, or the
    // counterpart wallet of a transfer. `subjectModel` names which (a polymorphic reference).
    subject: { type: Schema.Types.ObjectId, refPath: 'subjectModel' },
    subjectModel: { type: String, enum: ['PurchaseRequest', 'Wallet'] },
    // The client's key: a retried transfer finds its first entry instead of booking twice.
    idempotencyKey: { type: String, required: true, unique: true },
    // Set only on the entry that reverses an earlier one; no entry is ever edited.
    reversalOf: { type: Schema.Types.ObjectId, ref: 'LedgerEntry' },
    // The exchange rate of a cross-currency transfer. Decimal128 keeps it exact; entries in
    // one currency have none.
    fxRate: { type: Schema.Types.Decimal128 },
  },
  { collection: 'ledger', timestamps: { createdAt: true, updatedAt: false } },
);
ledgerEntrySchema.index({ wallet: 1, createdAt: 1 });
// One entry per place in a wallet's ledger: two bookings racing for the same place, one wins.
ledgerEntrySchema.index({ wallet: 1, seq: 1 }, { unique: true });

// Append-only: corrections are new entries (`reversalOf`), never edits.
ledgerEntrySchema.pre(['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne'], () => {
  throw new Error('ledger entries are append-only: book a reversal instead');
});

export const LedgerEntry = mongoose.model<LedgerEntryFields>('LedgerEntry', ledgerEntrySchema);
