import type { Document } from 'bson';
import { describe, expect, it } from 'vitest';
import type { MarketplaceOptions } from '../../../src/generate/index.js';
import { collect, docsOf } from './marketplace-helpers.js';

const SEED = 20240601;

/** Every reference in the dataset: which collection it should point into, and the id. */
function references(all: Map<string, Document[]>): { target: string; id: unknown; from: string }[] {
  const refs: { target: string; id: unknown; from: string }[] = [];
  const add = (target: string, id: unknown, from: string) => refs.push({ target, id, from });
  for (const u of docsOf(all, 'users')) if ('referredBy' in u) add('users', u.referredBy, 'users.referredBy');
  for (const r of docsOf(all, 'purchaseRequests')) {
    add('users', r.buyerId, 'purchaseRequests.buyerId');
    add('users', r.sellerId, 'purchaseRequests.sellerId');
    for (const h of r.statusHistory as Document[]) add('users', h.by, 'purchaseRequests.statusHistory.by');
  }
  for (const p of docsOf(all, 'payments'))
    add(p.targetType === 'User' ? 'users' : 'purchaseRequests', p.target, `payments.target(${p.targetType})`);
  for (const l of docsOf(all, 'ledger')) {
    if (l.paymentId !== null) add('payments', l.paymentId, 'ledger.paymentId');
    if ('requestId' in l) add('purchaseRequests', l.requestId, 'ledger.requestId');
  }
  for (const c of docsOf(all, 'chats')) {
    for (const p of c.participants as unknown[]) add('users', p, 'chats.participants');
    add('purchaseRequests', c.requestId, 'chats.requestId');
  }
  for (const n of docsOf(all, 'notifications')) {
    add('users', n.userId, 'notifications.userId');
    if (typeof n.payload !== 'object') continue;
    const payload = n.payload as Document;
    if ('paymentId' in payload) add('payments', payload.paymentId, 'notifications.payload.paymentId');
    if ('chatId' in payload) add('chats', payload.chatId, 'notifications.payload.chatId');
    if ('requestId' in payload) add('purchaseRequests', payload.requestId, 'notifications.payload.requestId');
  }
  return refs;
}

function danglingShare(options: MarketplaceOptions): { share: number; refs: number; fields: Set<string> } {
  const all = collect(options);
  const ids = new Map<string, Set<string>>();
  for (const [name, docs] of all) ids.set(name, new Set(docs.map((d) => String(d._id))));
  const refs = references(all);
  const dangling = refs.filter((r) => !ids.get(r.target)?.has(String(r.id)));
  return {
    share: dangling.length / refs.length,
    refs: refs.length,
    fields: new Set(refs.map((r) => r.from)),
  };
}

describe('marketplace references', () => {
  it('point at generated documents except for about the configured dangling rate', () => {
    const { share, refs, fields } = danglingShare({ seed: SEED, scale: 20_000, danglingRefs: 0.02 });
    expect(refs).toBeGreaterThan(20_000);
    expect(share).toBeGreaterThan(0.015);
    expect(share).toBeLessThan(0.025);
    // Every kind of reference was seen, so none escaped the check.
    expect(fields.size).toBe(14);
  });

  it('all resolve when the dangling rate is zero, and a few dangle by default', () => {
    expect(danglingShare({ seed: SEED, scale: 10_000, danglingRefs: 0 }).share).toBe(0);
    const byDefault = danglingShare({ seed: SEED, scale: 20_000 }).share;
    expect(byDefault).toBeGreaterThan(0.002);
    expect(byDefault).toBeLessThan(0.01);
  });

  it('make the polymorphic payment target land in both users and purchase requests', () => {
    const all = collect({ seed: SEED, scale: 10_000, danglingRefs: 0 });
    const users = new Set(docsOf(all, 'users').map((d) => String(d._id)));
    const requests = new Set(docsOf(all, 'purchaseRequests').map((d) => String(d._id)));
    const landed = { users: 0, purchaseRequests: 0 };
    for (const p of docsOf(all, 'payments')) {
      const id = String(p.target);
      if (p.targetType === 'User' && users.has(id)) landed.users++;
      else if (p.targetType === 'PurchaseRequest' && requests.has(id)) landed.purchaseRequests++;
      else throw new Error(`payment ${String(p._id)} targets ${id} as ${String(p.targetType)}`);
    }
    expect(landed.users).toBeGreaterThan(docsOf(all, 'payments').length * 0.2);
    expect(landed.purchaseRequests).toBeGreaterThan(docsOf(all, 'payments').length * 0.6);
  });

  it('keep chats consistent: participants are the request buyer and seller, senders and readers are participants', () => {
    const all = collect({ seed: SEED, scale: 10_000, danglingRefs: 0 });
    const requests = new Map(docsOf(all, 'purchaseRequests').map((r) => [String(r._id), r]));
    let messages = 0;
    for (const chat of docsOf(all, 'chats')) {
      const participants = (chat.participants as unknown[]).map(String);
      const request = requests.get(String(chat.requestId));
      expect(participants.slice(0, 2)).toEqual([String(request?.buyerId), String(request?.sellerId)]);
      for (const m of chat.messages as Document[]) {
        messages++;
        expect(participants).toContain(String(m.senderId));
        for (const reader of m.readBy as unknown[]) expect(participants).toContain(String(reader));
      }
    }
    expect(messages).toBeGreaterThan(1_000);
  });

  it('have unique user emails, as the unique index demands', () => {
    const users = docsOf(collect({ seed: SEED, scale: 50_000 }), 'users');
    expect(new Set(users.map((u) => u.email)).size).toBe(users.length);
  });
});
