/**
 * The escrow example's Mongoose models, registered on the app's mongoose when imported.
 * `ferry infer --models examples/escrow/models` reads them from here.
 */
export { LedgerEntry } from './ledger.js';
export { Notification } from './notifications.js';
export { PurchaseRequest } from './purchase-requests.js';
export { User } from './users.js';
export { Wallet } from './wallets.js';
