import { type Document, ObjectId } from 'bson';
import { Random } from '../random.js';

/**
 * Seeded documents for the escrow example app (`examples/escrow/models`), in the shape its
 * Mongoose models write them: users with a preferences Map, one wallet per user and currency,
 * an append-only ledger whose entries point at a purchase request or a counterpart wallet
 * (`subject` + `subjectModel`, a refPath), purchase requests with embedded items and status
 * history, and notifications that expire. Money is integer minor units (FerretDB cannot hold
 * Decimal128), and every wallet's `balanceMinor` equals the sum of its ledger entries, the
 * last of which has the wallet's `entrySeq` as its `seq`.
 */

/** The escrow collections, in the order a loader writes them (referenced before referencing). */
export const ESCROW_COLLECTIONS = [
  'users',
  'wallets',
  'purchaseRequests',
  'ledger',
  'notifications',
] as const;
export type EscrowCollection = (typeof ESCROW_COLLECTIONS)[number];

/**
 * How many documents to make.
 *
 * @example
 * const options: EscrowOptions = { users: 50 };
 */
export interface EscrowOptions {
  /** Users; wallets, requests, ledger entries and notifications scale with them (default 40). */
  readonly users?: number;
}

/**
 * The documents of every escrow collection.
 *
 * @example
 * const data: EscrowDataset = generateEscrow(7);
 * data.ledger.length;
 */
export type EscrowDataset = Readonly<Record<EscrowCollection, readonly Document[]>>;

const FIRST_NAMES = ['Ada', 'Bruno', 'Chioma', 'Dmitri', 'Elena', 'Farah', 'Goran', 'Hana', 'Ivo', 'Jun'];
const LAST_NAMES = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Novak', 'Silva', 'Haddad', 'Kowalski'];
const CITIES: readonly [string, string][] = [
  ['Lisbon', 'PT'],
  ['Berlin', 'DE'],
  ['Lagos', 'NG'],
  ['Osaka', 'JP'],
  ['Austin', 'US'],
  ['Leeds', 'GB'],
];
const PRODUCTS = ['camera', 'bicycle', 'laptop', 'guitar', 'watch', 'drone', 'phone', 'lens'];
const STATUS_PATH = ['open', 'funded', 'shipped', 'released'] as const;
const DAY = 86_400_000;
/** 2026-01-01T00:00:00Z: every generated date is after it, so the data does not depend on today. */
const EPOCH = Date.UTC(2026, 0, 1);

/**
 * Generate the escrow dataset: the same seed and options give the same documents, ids included.
 *
 * @example
 * declare const db: import('mongodb').Db;
 * const data = generateEscrow(20260101, { users: 40 });
 * for (const name of ESCROW_COLLECTIONS) await db.collection(name).insertMany([...data[name]]);
 */
export function generateEscrow(seed: number, options: EscrowOptions = {}): EscrowDataset {
  const rng = new Random(seed);
  const userCount = options.users ?? 40;
  let clock = EPOCH;
  const tick = (maxMs: number) => {
    clock += rng.int(1_000, maxMs);
    return new Date(clock);
  };
  const id = () => objectIdAt(rng, clock);

  const users: Document[] = [];
  for (let i = 0; i < userCount; i++) {
    const created = tick(3_600_000);
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const [city, country] = rng.pick(CITIES);
    const roles = rng.chance(0.4) ? ['buyer', 'seller'] : [rng.chance(0.7) ? 'buyer' : 'seller'];
    users.push({
      _id: id(),
      email: `${first}.${last}.${i}@example.com`.toLowerCase(),
      name: `${first} ${last}`,
      status: rng.chance(0.9) ? 'active' : 'suspended',
      roles: i === 0 ? ['admin'] : roles,
      ...(rng.chance(0.6) ? { phone: `+1555${String(1_000_000 + i).slice(1)}` } : {}),
      address: { city, country },
      // Channel → on/off: always the same few channels, so the data alone sees stable keys.
      preferences: { email: true, sms: rng.chance(0.3), push: rng.chance(0.6) },
      kycLevel: rng.int(0, 2),
      createdAt: created,
      updatedAt: created,
      __v: 0,
    });
  }

  const wallets: Document[] = [];
  for (const user of users) {
    const currencies = rng.chance(0.3) ? ['EUR', 'USD'] : [rng.pick(['EUR', 'USD', 'GBP'])];
    for (const currency of currencies) {
      const created = tick(600_000);
      wallets.push({
        _id: id(),
        user: user._id,
        currency,
        balanceMinor: 0,
        entrySeq: 0,
        status: 'open',
        ...(rng.chance(0.5) ? { limits: { dailyMinor: rng.int(1, 20) * 10_000 } } : {}),
        createdAt: created,
        updatedAt: created,
        __v: 0,
      });
    }
  }

  const ledger: Document[] = [];
  const book = (wallet: Document, entryType: string, amount: number, subject?: [ObjectId, string]) => {
    wallet.balanceMinor = (wallet.balanceMinor as number) + amount;
    wallet.entrySeq = (wallet.entrySeq as number) + 1;
    ledger.push({
      _id: id(),
      wallet: wallet._id,
      entryType,
      amountMinor: amount,
      currency: wallet.currency,
      balanceAfterMinor: wallet.balanceMinor,
      seq: wallet.entrySeq,
      ...(subject ? { subject: subject[0], subjectModel: subject[1] } : {}),
      idempotencyKey: `${entryType}-${ledger.length}-${rng.uint32().toString(36)}`,
      createdAt: tick(60_000),
      __v: 0,
    });
  };
  for (const wallet of wallets) book(wallet, 'deposit', rng.int(50, 500) * 100);

  const purchaseRequests: Document[] = [];
  for (let i = 0; i < userCount; i++) {
    const buyerWallet = rng.pick(wallets);
    const sellers = users.filter((u) => u._id !== buyerWallet.user);
    const seller = rng.pick(sellers);
    const items = Array.from({ length: rng.int(1, 3) }, (_, n) => ({
      sku: `SKU-${rng.int(1000, 9999)}-${n}`,
      title: `${rng.pick(PRODUCTS)} ${rng.pick(['mk2', 'pro', 'mini', 'classic'])}`,
      quantity: rng.int(1, 3),
      unitPriceMinor: rng.int(5, 150) * 100,
    }));
    const total = items.reduce((sum, item) => sum + item.quantity * item.unitPriceMinor, 0);
    const created = tick(900_000);
    const steps = rng.int(1, STATUS_PATH.length);
    const history = STATUS_PATH.slice(0, steps).map((status, n) => ({
      status,
      at: new Date(created.getTime() + n * DAY),
      // The first change is the buyer's own request; later ones name who moved it.
      ...(n === 0 ? {} : { by: n === 1 ? buyerWallet.user : seller._id }),
    }));
    const status = STATUS_PATH[steps - 1]!;
    const request: Document = {
      _id: id(),
      buyer: buyerWallet.user,
      seller: seller._id,
      title: `${items[0]!.title} and ${items.length - 1} more`,
      status,
      items,
      history,
      totalMinor: total,
      currency: buyerWallet.currency,
      tags: rng.chance(0.5) ? [rng.pick(['gift', 'urgent', 'bulk', 'fragile'])] : [],
      createdAt: created,
      updatedAt: history[history.length - 1]!.at,
      __v: 0,
    };
    if (status !== 'open') {
      request.escrowWallet = buyerWallet._id;
      book(buyerWallet, 'escrow_hold', -total, [request._id as ObjectId, 'PurchaseRequest']);
    }
    purchaseRequests.push(request);
  }

  // Transfers between two wallets of one currency: a pair of entries naming each other's wallet.
  for (let i = 0; i < userCount; i++) {
    const from = rng.pick(wallets);
    const to = wallets.find((w) => w !== from && w.currency === from.currency && rng.chance(0.5));
    if (!to) continue;
    const amount = rng.int(1, 20) * 100;
    book(from, 'transfer', -amount, [to._id as ObjectId, 'Wallet']);
    book(to, 'transfer', amount, [from._id as ObjectId, 'Wallet']);
  }

  const notifications: Document[] = [];
  for (const entry of ledger.filter((e) => e.entryType !== 'deposit')) {
    const wallet = wallets.find((w) => w._id === entry.wallet)!;
    const created = entry.createdAt as Date;
    notifications.push({
      _id: id(),
      user: wallet.user,
      kind: entry.entryType === 'transfer' ? 'transfer' : 'request',
      title: entry.entryType === 'transfer' ? 'Money moved' : 'Escrow funded',
      read: rng.chance(0.5),
      expiresAt: new Date(created.getTime() + 30 * DAY),
      createdAt: created,
      __v: 0,
    });
  }

  return { users, wallets, purchaseRequests, ledger, notifications };
}

/** An ObjectId whose time part is the generated clock, the rest from the seeded stream. */
function objectIdAt(rng: Random, clockMs: number): ObjectId {
  const bytes = new Uint8Array(12);
  new DataView(bytes.buffer).setUint32(0, Math.floor(clockMs / 1000));
  bytes.set(rng.bytes(8), 4);
  return new ObjectId(bytes);
}
