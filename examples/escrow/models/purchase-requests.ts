import mongoose, { Schema } from 'mongoose';
import { CURRENCIES } from './wallets.js';

export const REQUEST_STATUSES = ['open', 'funded', 'shipped', 'released', 'disputed', 'cancelled'] as const;

const itemSchema = new Schema(
  {
    sku: { type: String, required: true },
    title: { type: String, required: true },
    quantity: { type: Number, required: true, min: 1, validate: Number.isInteger },
    unitPriceMinor: { type: Number, required: true, validate: Number.isInteger },
  },
  { _id: false },
);

const statusChangeSchema = new Schema(
  {
    status: { type: String, enum: REQUEST_STATUSES, required: true },
    at: { type: Date, required: true },
    by: { type: Schema.Types.ObjectId, ref: 'User' },
  },
  { _id: false },
);

const purchaseRequestSchema = new Schema(
  {
    buyer: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    seller: { type: Schema.Types.ObjectId, ref: 'User', required: true, index: true },
    title: { type: String, required: true },
    status: { type: String, enum: REQUEST_STATUSES, required: true, default: 'open' },
    items: { type: [itemSchema], default: [] },
    history: { type: [statusChangeSchema], default: [] },
    totalMinor: { type: Number, required: true, validate: Number.isInteger },
    currency: { type: String, enum: CURRENCIES, required: true },
    // The wallet holding the buyer's money while the request is funded and not yet released.
    escrowWallet: { type: Schema.Types.ObjectId, ref: 'Wallet' },
    tags: { type: [String], default: [] },
  },
  { collection: 'purchaseRequests', timestamps: true },
);
purchaseRequestSchema.index({ buyer: 1, status: 1 });

export const PurchaseRequest = mongoose.model('PurchaseRequest', purchaseRequestSchema);
