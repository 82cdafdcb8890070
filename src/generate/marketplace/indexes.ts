import { Int32 } from 'bson';
import type { IndexSpec } from '../../sources/types.js';
import type { MarketplaceCollection } from './context.js';

const ID: IndexSpec = { name: '_id_', key: { _id: 1 } };

/**
 * The indexes a Mongoose app of this shape declares, in `listIndexes` form (so a text index
 * is `{ _fts: 'text', _ftsx: 1 }` with its fields in `weights`). Between them they cover every
 * kind the schema translation handles: unique, sparse, compound with a descending key,
 * partial, TTL and text.
 *
 * @example
 * MARKETPLACE_INDEXES.notifications.find((i) => i.expireAfterSeconds !== undefined)?.key; // { expiresAt: 1 }
 */
export const MARKETPLACE_INDEXES: Readonly<Record<MarketplaceCollection, readonly IndexSpec[]>> = {
  users: [
    ID,
    { name: 'email_1', key: { email: 1 }, unique: true },
    // Only referred users have the field; sparse keeps the index small.
    { name: 'referredBy_1', key: { referredBy: 1 }, sparse: true },
  ],
  purchaseRequests: [
    ID,
    { name: 'buyerId_1_createdAt_-1', key: { buyerId: 1, createdAt: -1 } },
    { name: 'sellerId_1_status_1', key: { sellerId: 1, status: 1 } },
    {
      name: 'title_text_items.title_text',
      key: { _fts: 'text', _ftsx: 1 },
      options: {
        weights: { title: 10, 'items.title': 3 },
        default_language: 'english',
        language_override: 'language',
        textIndexVersion: new Int32(3),
      },
    },
  ],
  payments: [
    ID,
    { name: 'target_1_targetType_1', key: { target: 1, targetType: 1 } },
    // The reconciliation job only scans pending payments; the partial index holds just those.
    {
      name: 'status_1_createdAt_1',
      key: { status: 1, createdAt: 1 },
      partialFilterExpression: { status: 'pending' },
    },
  ],
  ledger: [
    ID,
    { name: 'account_1_seq_1', key: { account: 1, seq: 1 }, unique: true },
    { name: 'paymentId_1', key: { paymentId: 1 } },
  ],
  chats: [
    ID,
    { name: 'participants_1', key: { participants: 1 } },
    { name: 'requestId_1', key: { requestId: 1 } },
  ],
  notifications: [
    ID,
    { name: 'userId_1_createdAt_-1', key: { userId: 1, createdAt: -1 } },
    // Mongoose `expires` on a Date field: each document expires at its own `expiresAt`.
    { name: 'expiresAt_1', key: { expiresAt: 1 }, expireAfterSeconds: 0 },
  ],
};
