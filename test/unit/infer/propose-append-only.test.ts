import { type Document, Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { generateMarketplace } from '../../../src/generate/marketplace/generate-marketplace.js';
import { MARKETPLACE_INDEXES } from '../../../src/generate/marketplace/indexes.js';
import type { InferenceSnapshot } from '../../../src/infer/index.js';
import { proposeMapping } from '../../../src/infer/propose.js';
import { renderReport } from '../../../src/infer/report-render.js';
import { renderConfig } from '../../../src/infer/write-config.js';
import { snapshotOf } from './helpers.js';

const entries = (n: number, extra: (i: number) => Document = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({
    _id: new ObjectId(i.toString(16).padStart(24, '0')),
    amount: new Int32(i),
    createdAt: new Date(Date.UTC(2024, 0, 1, 0, i)),
    ...extra(i),
  }));

const appendOnlyOf = (snapshot: InferenceSnapshot) =>
  Object.fromEntries(proposeMapping(snapshot).plan.collections.map((c) => [c.name, c.appendOnly === true]));

describe('inference proposes appendOnly for ledger-like collections only', () => {
  it('proposes it for the marketplace ledger and for nothing else of the marketplace, and says so in the report and the config', () => {
    const collections = Object.fromEntries(
      generateMarketplace({ seed: 3, scale: 120 }).map((c) => [c.name, [...c.docs()]]),
    );
    const proposal = proposeMapping(snapshotOf(collections), { indexes: MARKETPLACE_INDEXES });
    expect(Object.fromEntries(proposal.plan.collections.map((c) => [c.name, c.appendOnly === true]))).toEqual(
      {
        chats: false,
        ledger: true,
        notifications: false,
        payments: false,
        purchaseRequests: false,
        users: false,
      },
    );
    const ledger = proposal.report.collections.find((c) => c.name === 'ledger')!;
    expect(ledger.appendOnly).toMatchInlineSnapshot(`
      {
        "evidence": "name "ledger"; createdAt in 42/42 document(s); no update date; __v always 0",
        "reason": "documents look like ledger entries: written once, never updated, so UPDATE and DELETE are refused",
      }
    `);
    expect(proposal.report.warnings.filter((w) => w.code === 'APPEND_ONLY')).toEqual([
      expect.objectContaining({
        collection: 'ledger',
        message: expect.stringContaining('remove `appendOnly`'),
      }),
    ]);
    expect(renderReport(proposal.report)).toContain(
      'ledger: 42 document(s) → 1 table(s)\n  append-only: name "ledger"; createdAt in 42/42 document(s)',
    );
    expect(renderConfig(proposal.plan, proposal.report)).toMatch(
      /name: 'ledger',[\s\S]*?appendOnly: true,\n {6}\},/,
    );
  });

  it('does not propose it when documents carry an update date, an edited __v, no creation date in some, or a name that is not a record of events', () => {
    expect(
      appendOnlyOf(
        snapshotOf({
          ledger: entries(10),
          auditLog: entries(10, (i) => ({ __v: new Int32(0), actor: `u${i}` })),
          journal_entries: entries(10, (i) => (i === 3 ? { updatedAt: new Date() } : {})),
          events: entries(10, (i) => ({ __v: new Int32(i === 5 ? 2 : 0) })),
          postings: entries(10).map(({ createdAt: _createdAt, ...d }, i) =>
            i === 0 ? d : { ...d, createdAt: new Date() },
          ),
          orders: entries(10),
        }),
      ),
    ).toEqual({
      ledger: true,
      auditLog: true,
      journal_entries: false,
      events: false,
      postings: false,
      orders: false,
    });
  });

  it('leaves it out when the collection has a TTL index, whose cleanup deletes rows', () => {
    const proposal = proposeMapping(snapshotOf({ ledger: entries(5) }), {
      indexes: { ledger: [{ name: 'createdAt_1', key: { createdAt: 1 }, expireAfterSeconds: 60 }] },
    });
    expect(proposal.plan.collections[0]?.appendOnly).toBeUndefined();
  });
});
