import type { Document } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  LedgerEntry,
  Notification,
  PurchaseRequest,
  User,
  Wallet,
} from '../../../examples/escrow/models/index.js';
import { ESCROW_COLLECTIONS, generateEscrow } from '../../../src/generate/index.js';
import { canonicalEqual } from '../../../src/mapping/canonical/index.js';

/** The escrow generator writes what the example's Mongoose models accept, reproducibly. */
describe('generateEscrow', () => {
  const data = generateEscrow(11, { users: 25 });

  it('gives the same documents for the same seed, and others for another', () => {
    const again = generateEscrow(11, { users: 25 });
    for (const name of ESCROW_COLLECTIONS)
      expect(data[name].every((doc, i) => canonicalEqual(doc, again[name][i]!))).toBe(true);
    expect(canonicalEqual(generateEscrow(12, { users: 25 }).users[0]!, data.users[0]!)).toBe(false);
  });

  it('writes documents every escrow model validates', async () => {
    const models = {
      users: User,
      wallets: Wallet,
      purchaseRequests: PurchaseRequest,
      ledger: LedgerEntry,
      notifications: Notification,
    } as const;
    for (const name of ESCROW_COLLECTIONS) {
      expect(data[name].length, name).toBeGreaterThan(0);
      const Model = models[name] as unknown as new (d: Document) => { validate(): Promise<void> };
      for (const doc of data[name])
        await expect(new Model(doc).validate(), `${name} ${String(doc._id)}`).resolves.toBeUndefined();
    }
  });

  it("keeps every wallet's balance equal to the sum of its ledger entries, and every reference resolving", () => {
    const ids = new Set(ESCROW_COLLECTIONS.flatMap((name) => data[name].map((d) => String(d._id))));
    for (const wallet of data.wallets) {
      const entries = data.ledger.filter((e) => String(e.wallet) === String(wallet._id));
      expect(entries.reduce((sum, e) => sum + (e.amountMinor as number), 0)).toBe(wallet.balanceMinor);
      // Numbered 1…n in booking order, each with the balance it left; the wallet counts them.
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      expect(wallet.entrySeq).toBe(entries.length);
      expect(entries.at(-1)?.balanceAfterMinor ?? 0).toBe(wallet.balanceMinor);
    }
    const references = [
      ...data.wallets.map((w) => w.user),
      ...data.ledger.flatMap((e) => [e.wallet, e.subject].filter((x) => x !== undefined)),
      ...data.purchaseRequests.flatMap((r) =>
        [r.buyer, r.seller, r.escrowWallet].filter((x) => x !== undefined),
      ),
      ...data.notifications.map((n) => n.user),
    ];
    for (const id of references) expect(ids.has(String(id))).toBe(true);
    expect(new Set(data.ledger.map((e) => e.subjectModel).filter(Boolean))).toEqual(
      new Set(['PurchaseRequest', 'Wallet']),
    );
  });
});
