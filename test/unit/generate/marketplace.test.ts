import { createHash } from 'node:crypto';
import { BSON, type Document, type Long } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  generateMarketplace,
  MARKETPLACE_COLLECTIONS,
  MARKETPLACE_PROPORTIONS,
  marketplaceCounts,
  seedFromEnv,
} from '../../../src/generate/index.js';
import { bsonType, collect, docsOf, walk } from './marketplace-helpers.js';

const SEED = 20240601;

function digest(seed: number, scale: number, perCollection: number): string {
  const hash = createHash('sha256');
  for (const c of generateMarketplace({ seed, scale })) {
    let n = 0;
    for (const doc of c.docs()) {
      if (n++ >= perCollection) break;
      hash.update(BSON.serialize(doc));
    }
  }
  return hash.digest('hex');
}

describe('the marketplace generator', () => {
  it('produces byte-identical documents for a fixed seed and scale (pinned hash of the first 200 per collection)', () => {
    // If this changes, every benchmark and demo number changes with it: bump it on purpose only.
    expect(digest(SEED, 10_000, 200)).toBe(
      '9906f9e8cda7df16390a89714d6321dc7f68d88ec7134317f4dad2c88e1a6cf1',
    );
  });

  it('gives a different dataset for a different seed, and the same one on a second pass', () => {
    const seed = seedFromEnv(SEED);
    expect(digest(seed, 2_000, 50)).toBe(digest(seed, 2_000, 50));
    expect(digest(seed, 2_000, 50)).not.toBe(digest(seed + 1, 2_000, 50));
  });

  it('splits the scale into per-collection counts that add up to it exactly, in the stated proportions', () => {
    for (const scale of [0, 1, 7, 999, 10_000, 1_000_000, 5_000_003]) {
      const counts = marketplaceCounts(scale);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(scale);
      for (const name of MARKETPLACE_COLLECTIONS)
        expect(Math.abs(counts[name] - scale * MARKETPLACE_PROPORTIONS[name])).toBeLessThan(1);
    }
    expect(marketplaceCounts(1_000_000)).toEqual({
      users: 80_000,
      purchaseRequests: 120_000,
      payments: 150_000,
      ledger: 350_000,
      chats: 50_000,
      notifications: 250_000,
    });
  });

  it('yields exactly the announced count of documents per collection, with unique ids across all of them', () => {
    const all = collect({ seed: SEED, scale: 4_321 });
    const ids = new Set<string>();
    let total = 0;
    for (const c of generateMarketplace({ seed: SEED, scale: 4_321 })) {
      const docs = docsOf(all, c.name);
      expect(docs.length, c.name).toBe(c.count);
      total += docs.length;
      for (const doc of docs) ids.add(String(doc._id));
    }
    expect(total).toBe(4_321);
    expect(ids.size).toBe(4_321);
  });

  it('copes with tiny scales, where some collections are empty and references have nothing to point at', () => {
    for (let scale = 0; scale <= 60; scale++) {
      let total = 0;
      for (const c of generateMarketplace({ seed: SEED, scale })) total += [...c.docs()].length;
      expect(total).toBe(scale);
    }
  });

  it('rejects a scale that is not a document count and a knob that is not a probability', () => {
    expect(() => generateMarketplace({ seed: 1, scale: -1 })).toThrow(/not a document count/);
    expect(() => generateMarketplace({ seed: 1, scale: 1.5 })).toThrow(/not a document count/);
    expect(() => generateMarketplace({ seed: 1, scale: 10, danglingRefs: 2 })).toThrow(/danglingRefs=2/);
  });

  it('declares the unique, sparse, compound, partial, TTL and text indexes a Mongoose app would', () => {
    const indexes = Object.fromEntries(
      generateMarketplace({ seed: 1, scale: 10 }).map((c) => [c.name, c.indexes]),
    );
    const find = (collection: string, name: string) => indexes[collection]?.find((i) => i.name === name);
    expect(find('users', 'email_1')).toMatchObject({ key: { email: 1 }, unique: true });
    expect(find('users', 'referredBy_1')).toMatchObject({ key: { referredBy: 1 }, sparse: true });
    expect(find('purchaseRequests', 'buyerId_1_createdAt_-1')?.key).toEqual({ buyerId: 1, createdAt: -1 });
    expect(find('purchaseRequests', 'title_text_items.title_text')).toMatchObject({
      key: { _fts: 'text', _ftsx: 1 },
      options: { weights: { title: 10, 'items.title': 3 } },
    });
    expect(find('payments', 'target_1_targetType_1')?.key).toEqual({ target: 1, targetType: 1 });
    expect(find('payments', 'status_1_createdAt_1')?.partialFilterExpression).toEqual({ status: 'pending' });
    expect(find('ledger', 'account_1_seq_1')).toMatchObject({ key: { account: 1, seq: 1 }, unique: true });
    expect(find('notifications', 'expiresAt_1')).toMatchObject({
      key: { expiresAt: 1 },
      expireAfterSeconds: 0,
    });
    for (const name of MARKETPLACE_COLLECTIONS) expect(find(name, '_id_')?.key).toEqual({ _id: 1 });
  });

  it('keeps money in Decimal128 everywhere money appears when there is no schema drift', () => {
    const money = new Set(['amount', 'unitPrice', 'total', 'balance', 'balanceAfter']);
    const seen = new Map<string, number>();
    for (const docs of collect({ seed: SEED, scale: 5_000, schemaDrift: 0 }).values()) {
      for (const doc of docs) {
        walk(doc, (key, value) => {
          if (!money.has(key)) return;
          expect(bsonType(value), `${key} in ${String(doc._id)}`).toBe('Decimal128');
          seen.set(key, (seen.get(key) ?? 0) + 1);
        });
      }
    }
    expect([...seen.keys()].sort()).toEqual([...money].sort());
  });

  it('adds up items and milestones to the request total to the cent', () => {
    const cents = (d: unknown) => Math.round(Number(String(d)) * 100);
    for (const request of docsOf(collect({ seed: SEED, scale: 3_000 }), 'purchaseRequests')) {
      const items = (request.items as Document[]).reduce((s, i) => s + cents(i.unitPrice) * Number(i.qty), 0);
      const milestones = (request.milestones as Document[]).reduce((s, m) => s + cents(m.amount), 0);
      expect(items).toBe(cents(request.total));
      expect(milestones).toBe(cents(request.total));
    }
  });

  it('writes a double-entry ledger: each posting nets to zero and balanceAfter is the running balance of its account', () => {
    const ledger = docsOf(collect({ seed: SEED, scale: 6_000 }), 'ledger');
    const cents = (d: unknown) => Math.round(Number(String(d)) * 100);
    const balances = new Map<string, number>();
    for (let i = 0; i < ledger.length; i++) {
      const entry = ledger[i] as Document;
      const balance = (balances.get(entry.account) ?? 0) + cents(entry.amount);
      balances.set(entry.account, balance);
      expect(cents(entry.balanceAfter)).toBe(balance);
      if (i % 2 === 1) expect(cents(entry.amount) + cents((ledger[i - 1] as Document).amount)).toBe(0);
    }
  });

  it('numbers the ledger with monotonic Long sequence numbers, some beyond 2^31', () => {
    const ledger = docsOf(collect({ seed: SEED, scale: 3_000 }), 'ledger');
    let previous = -1n;
    let beyond = 0;
    for (const entry of ledger) {
      expect(bsonType(entry.seq)).toBe('Long');
      const seq = (entry.seq as Long).toBigInt();
      expect(seq).toBeGreaterThan(previous);
      previous = seq;
      if (seq >= 2n ** 31n) beyond++;
    }
    expect(beyond).toBeGreaterThan(0);
    expect(beyond).toBeLessThan(ledger.length);
  });

  it('has schema drift by default (users.balance as Double and string, roles as a string, payloads as JSON strings) and none at rate 0', () => {
    const census = (schemaDrift?: number) => {
      const all = collect({ seed: SEED, scale: 20_000, ...(schemaDrift !== undefined && { schemaDrift }) });
      const types = new Set(docsOf(all, 'users').map((u) => bsonType(u.balance)));
      const roles = new Set(docsOf(all, 'users').map((u) => bsonType(u.roles)));
      const payloads = new Set(docsOf(all, 'notifications').map((n) => bsonType(n.payload)));
      const messages = docsOf(all, 'chats').flatMap((c) => c.messages as Document[]);
      return { types, roles, payloads, withoutReactions: messages.filter((m) => !('reactions' in m)).length };
    };
    const drifted = census();
    expect([...drifted.types].sort()).toEqual(['Decimal128', 'Double', 'string']);
    expect([...drifted.roles].sort()).toEqual(['array', 'string']);
    expect([...drifted.payloads].sort()).toEqual(['object', 'string']);
    expect(drifted.withoutReactions).toBeGreaterThan(0);
    const clean = census(0);
    expect([...clean.types]).toEqual(['Decimal128']);
    expect([...clean.roles]).toEqual(['array']);
    expect([...clean.payloads]).toEqual(['object']);
    expect(clean.withoutReactions).toBe(0);
  });

  it('has the messy optional shapes: missing vs null readAt, rare phone, empty attachments, long unicode messages, emoji reaction keys', () => {
    const all = collect({ seed: SEED, scale: 20_000 });
    const notifications = docsOf(all, 'notifications');
    expect(notifications.some((n) => !('readAt' in n))).toBe(true);
    expect(notifications.some((n) => n.readAt === null)).toBe(true);
    expect(notifications.some((n) => n.readAt instanceof Date)).toBe(true);
    const users = docsOf(all, 'users');
    const phones = users.filter((u) => 'phone' in u).length / users.length;
    expect(phones).toBeGreaterThan(0.02);
    expect(phones).toBeLessThan(0.2);
    expect(docsOf(all, 'purchaseRequests').some((r) => (r.attachments as unknown[]).length === 0)).toBe(true);
    const messages = docsOf(all, 'chats').flatMap((c) => c.messages as Document[]);
    expect(messages.some((m) => (m.body as string).length > 5_000)).toBe(true);
    expect(messages.some((m) => /\p{Extended_Pictographic}/u.test(m.body as string))).toBe(true);
    expect(
      messages.some((m) => Object.keys((m.reactions as Document | undefined) ?? {}).includes('👍')),
    ).toBe(true);
    const none = collect({ seed: SEED, scale: 5_000, optionalFields: 0 });
    expect(docsOf(none, 'users').some((u) => 'phone' in u)).toBe(false);
  });

  it('spreads _id timestamps over about two years, in insertion order, with createdAt matching the _id', () => {
    for (const docs of collect({ seed: SEED, scale: 5_000 }).values()) {
      const seconds = docs.map((d) => (d._id as { getTimestamp(): Date }).getTimestamp().getTime() / 1000);
      for (let i = 1; i < seconds.length; i++)
        expect(seconds[i]).toBeGreaterThanOrEqual(seconds[i - 1] as number);
      const first = seconds[0] as number;
      const last = seconds[seconds.length - 1] as number;
      expect(last - first).toBeGreaterThan(600 * 86_400);
      expect(last - first).toBeLessThanOrEqual(2 * 365 * 86_400);
      for (const [i, d] of docs.entries())
        expect(Math.floor((d.createdAt as Date).getTime() / 1000)).toBe(seconds[i]);
    }
  });
});
