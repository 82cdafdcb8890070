import mongoose, { Schema } from 'mongoose';

/** Currencies the escrow service holds. Amounts are integer minor units (cents). */
export const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;

const walletSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true, index: true },
    currency: { type: String, enum: CURRENCIES, required: true },
    // Kept equal to the sum of the wallet's ledger entries by the transfer code.
    balanceMinor: { type: Number, required: true, default: 0, validate: Number.isInteger },
    // How many ledger entries `balanceMinor` includes: it equals the `seq` of the last one.
    entrySeq: { type: Number, required: true, default: 0, min: 0, validate: Number.isInteger },
    status: { type: String, enum: ['open', 'frozen', 'closed'], required: true, default: 'open' },
    limits: {
      dailyMinor: { type: Number, validate: Number.isInteger },
    },
  },
  { collection: 'wallets', timestamps: true },
);
// One wallet per user and currency.
walletSchema.index({ user: 1, currency: 1 }, { unique: true });

export const Wallet = mongoose.model('Wallet', walletSchema);
