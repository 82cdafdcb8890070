import { Decimal128, type Document, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { type Proposal, proposeMapping } from '../../../src/infer/propose.js';
import { checkPlanAgainstStats } from '../../../src/infer/propose-check.js';
import { canonicalEqual } from '../../../src/mapping/canonical/index.js';
import type { PlanInput } from '../../../src/mapping/model.js';
import { toDoc } from '../../../src/mapping/to-doc.js';
import { toRows } from '../../../src/mapping/to-rows.js';
import { snapshotOf } from './helpers.js';

/** Propose, and prove the proposal round-trips every document it was inferred from. */
function propose(collections: Record<string, readonly Document[]>, maxColumns?: number): Proposal {
  const proposal = proposeMapping(snapshotOf(collections), maxColumns ? { maxColumns } : {});
  for (const [name, docs] of Object.entries(collections))
    for (const doc of docs) {
      const rows = toRows(proposal.plan, name, doc);
      if (!rows.ok) throw new Error(`rejected: ${rows.reject.reason}`);
      expect(canonicalEqual(toDoc(proposal.plan, name, rows.rows), doc)).toBe(true);
    }
  return proposal;
}

const oid = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));
const columnsOf = (p: Proposal, table: string) =>
  p.plan.collections.flatMap((c) => c.tables).find((t) => t.name === table)!.columns;

describe('proposeMapping', () => {
  it('maps a field that is sometimes a string and sometimes an int to jsonb, with a type-conflict warning', () => {
    const docs = [1, 2, 3].map((n) => ({ _id: oid(n), zip: n === 2 ? new Int32(12345) : `0${n}000` }));
    const p = propose({ places: docs });
    expect(columnsOf(p, 'places')[1]).toMatchObject({ name: 'zip', pgType: 'jsonb', sourceType: 'any' });
    expect(p.report.warnings).toEqual([expect.objectContaining({ code: 'TYPE_CONFLICT', path: 'zip' })]);
  });

  it('picks the widest exact numeric type for mixed numbers', () => {
    const docs = [1, 2].map((n) => ({
      _id: oid(n),
      count: n === 1 ? new Int32(5) : Long.fromString('9000000000'),
      ratio: n === 1 ? new Int32(1) : new Double(0.5),
      amount: n === 1 ? new Int32(3) : Decimal128.fromString('12.3456'),
      big: Long.fromString('5000000000'),
    }));
    const columns = columnsOf(propose({ m: docs }), 'm');
    expect(columns.map((c) => [c.name, c.pgType, c.sourceType])).toEqual([
      ['id', 'uuid', 'objectId'],
      ['amount', 'numeric', 'number'],
      ['big', 'bigint', 'long'],
      ['count', 'bigint', 'number'],
      ['ratio', 'double precision', 'number'],
    ]);
  });

  it('turns an object keyed by dates into a child table keyed by (parent_id, key), with a map warning', () => {
    const docs = [1, 2, 3].map((n) => ({
      _id: oid(n),
      visits: Object.fromEntries([1, 2, 3, 4].map((d) => [`2024-01-0${d + n}`, new Int32(d * n)])),
    }));
    const p = propose({ pages: docs });
    const child = p.plan.collections[0]!.tables[1]!;
    expect(child.parent).toEqual({
      table: 'pages',
      path: ['visits'],
      shape: 'map',
      columns: ['parent_id'],
      ordinal: 'key',
    });
    expect(child.columns).toEqual([
      { name: 'value', path: [], pgType: 'integer', sourceType: 'int', nullable: false },
    ]);
    expect(p.report.warnings.map((w) => w.code)).toEqual(['MAP_SHAPED']);
  });

  it('gives a rarely present field a nullable column and a note', () => {
    const docs = Array.from({ length: 40 }, (_, n) => ({
      _id: oid(n + 1),
      name: `n${n}`,
      ...(n === 7 ? { nickname: 'x' } : {}),
    }));
    const p = propose({ people: docs });
    expect(columnsOf(p, 'people').find((c) => c.name === 'nickname')).toMatchObject({ nullable: true });
    expect(columnsOf(p, 'people').find((c) => c.name === 'name')).toMatchObject({ nullable: false });
    expect(p.report.warnings).toEqual([
      expect.objectContaining({
        code: 'RARE_FIELD',
        path: 'nickname',
        message: expect.stringContaining('1 of 40'),
      }),
    ]);
  });

  it('makes an ObjectId field that points at another collection a uuid foreign key', () => {
    const users = [1, 2, 3].map((n) => ({ _id: oid(n), name: `u${n}` }));
    const orders = [10, 11, 12, 13].map((n) => ({ _id: oid(n), userId: oid((n % 3) + 1) }));
    const p = propose({ users, orders });
    expect(columnsOf(p, 'orders')[1]).toMatchObject({
      name: 'user_id',
      pgType: 'uuid',
      references: { table: 'users', column: 'id' },
    });
  });

  it('keeps a reference with dangling ids as a plain uuid column, without a foreign key the data would break', () => {
    const users = Array.from({ length: 20 }, (_, n) => ({ _id: oid(n + 1), name: `u${n}` }));
    // 19 orders point at real users; one points at a user that was deleted long ago.
    const orders = Array.from({ length: 20 }, (_, n) => ({
      _id: oid(100 + n),
      userId: oid(n === 7 ? 999 : n + 1),
    }));
    const p = propose({ users, orders });
    const userId = columnsOf(p, 'orders')[1]!;
    expect(userId).toMatchObject({ name: 'user_id', pgType: 'uuid' });
    expect(userId.references).toBeUndefined();
    expect(p.report.warnings).toContainEqual(
      expect.objectContaining({
        code: 'DANGLING_REFERENCE',
        message: expect.stringContaining('5% of the ids point at no document'),
      }),
    );
  });

  it('keeps ObjectIds that point into two collections a plain uuid column, since the id alone cannot name the kind', () => {
    const users = [1, 2, 3].map((n) => ({ _id: oid(n) }));
    const requests = [4, 5, 6].map((n) => ({ _id: oid(n) }));
    const payments = [1, 2, 4, 5, 6, 3].map((n, i) => ({
      _id: oid(200 + i),
      target: oid(n),
      targetType: n <= 3 ? 'User' : 'Request',
    }));
    const p = propose({ users, requests, payments });
    const table = p.plan.collections.find((c) => c.name === 'payments')!.tables[0]!;
    expect(table.discriminators ?? []).toEqual([]);
    expect(table.columns.find((c) => c.path[0] === 'target')).toMatchObject({
      pgType: 'uuid',
      sourceType: 'objectId',
    });
    expect(p.report.warnings).toContainEqual(expect.objectContaining({ code: 'AMBIGUOUS_REFERENCE' }));
  });

  it('maps a field holding ObjectIds of one collection and string ids of another to a discriminator triple', () => {
    const users = [1, 2, 3].map((n) => ({ _id: oid(n) }));
    const tags = ['red', 'green', 'blue'].map((name) => ({ _id: name }));
    const events = [1, 2, 3, 4, 5, 6].map((n) => ({
      _id: oid(100 + n),
      target: n % 2 ? oid((n % 3) + 1) : ['red', 'green', 'blue'][n % 3]!,
    }));
    const p = propose({ users, tags, events });
    const table = p.plan.collections.find((c) => c.name === 'events')!.tables[0]!;
    expect(table.discriminators).toEqual([
      {
        path: ['target'],
        columns: { kind: 'target_kind', id: 'target_id', ref: 'target_ref' },
        kinds: [
          { name: 'users', idType: 'objectId', table: 'users' },
          { name: 'tags', idType: 'string', table: 'tags' },
        ],
      },
    ]);
    expect(p.report.warnings.map((w) => w.code)).toContain('POLYMORPHIC_REFERENCE');
  });

  it('keeps every table within 100 columns by spilling the rarest fields to _extra, and says so', () => {
    const docs = Array.from({ length: 150 }, (_, n) => {
      const doc: Document = { _id: oid(n + 1) };
      for (let f = 0; f < 150; f++) if (n <= f) doc[`f${String(f).padStart(3, '0')}`] = new Int32(f);
      return doc;
    });
    const p = propose({ wide: docs });
    const columns = columnsOf(p, 'wide');
    expect(columns.length + 1).toBe(100); // + _extra
    expect(columns.map((c) => c.name)).not.toContain('f000'); // present in 1 document: the rarest
    expect(columns.map((c) => c.name)).toContain('f149');
    expect(p.report.warnings.filter((w) => w.code === 'SPILLED_TO_EXTRA')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('the 52 rarest field(s) go to _extra') }),
    ]);
    expect(p.report.collections[0]!.tables[0]!.columns).toBe(100);
  });

  it('proposes byte-identical plans from the same statistics', () => {
    const docs = [1, 2, 3].map((n) => ({
      _id: oid(n),
      a: { b: new Int32(n), c: [`x${n}`] },
      items: [{ k: n }],
    }));
    const snapshot = snapshotOf({ c: docs });
    expect(JSON.stringify(proposeMapping(snapshot))).toBe(JSON.stringify(proposeMapping(snapshot)));
  });
});

describe('checkPlanAgainstStats', () => {
  const docs = [1, 2, 3].map((n) => ({
    _id: oid(n),
    count: n === 3 ? Long.fromString('5000000000') : Long.fromNumber(n),
    price: Decimal128.fromString(n === 2 ? '1.2345' : '10.50'),
    note: n === 1 ? { text: 'hi' } : 'plain',
    ...(n === 1 ? { rare: 'x' } : {}),
  }));
  const snapshot = snapshotOf({ things: docs });
  const base = proposeMapping(snapshot).plan;
  const edit = (name: string, change: Record<string, unknown>): PlanInput => {
    const plan = structuredClone(base) as {
      collections: { tables: { columns: Record<string, unknown>[] }[] }[];
    } & PlanInput;
    const column = plan.collections[0]!.tables[0]!.columns.find((c) => c.name === name)!;
    Object.assign(column, change);
    return plan;
  };

  it('accepts the proposal itself', () => {
    expect(checkPlanAgainstStats(base, snapshot)).toEqual({ ok: true, problems: [], warnings: [] });
  });

  it('refuses integer for values beyond int32, naming the column path', () => {
    const check = checkPlanAgainstStats(edit('count', { pgType: 'integer', sourceType: 'int' }), snapshot);
    expect(check.ok).toBe(false);
    expect(check.problems).toContainEqual({
      path: 'collections[0].tables[0].columns[1].pgType',
      reason: expect.stringContaining('cannot hold 3 long value(s)'),
    });
  });

  it('refuses integer declared for number values as too narrow, before looking at the data', () => {
    const check = checkPlanAgainstStats(edit('count', { pgType: 'integer' }), snapshot);
    expect(check.problems[0]?.reason).toMatch(/integer is too narrow for long values/);
  });

  it('refuses numeric(10,2) for values with scale 4', () => {
    const check = checkPlanAgainstStats(edit('price', { pgType: 'numeric(10,2)' }), snapshot);
    expect(check.problems).toEqual([
      {
        path: 'collections[0].tables[0].columns[3].pgType',
        reason: expect.stringContaining('values with scale 4 do not fit numeric(10,2)'),
      },
    ]);
  });

  it('refuses text for a field that is sometimes an object', () => {
    const check = checkPlanAgainstStats(edit('note', { pgType: 'text', sourceType: 'string' }), snapshot);
    expect(check.problems).toEqual([
      {
        path: 'collections[0].tables[0].columns[2].pgType',
        reason: expect.stringMatching(/cannot hold 1 object value\(s\) seen at note; use jsonb/),
      },
    ]);
  });

  it('refuses an unknown type name', () => {
    const check = checkPlanAgainstStats(edit('rare', { pgType: 'varchar' }), snapshot);
    expect(check.problems).toEqual([
      {
        path: 'collections[0].tables[0].columns[4].pgType',
        reason: expect.stringContaining('unknown PostgreSQL type "varchar"'),
      },
    ]);
  });

  it('refuses NOT NULL for a field most documents lack, since those documents would be rejected', () => {
    const check = checkPlanAgainstStats(edit('rare', { nullable: false }), snapshot);
    expect(check.problems).toEqual([
      {
        path: 'collections[0].tables[0].columns[4].nullable',
        reason: expect.stringContaining('only 1 of 3 rows'),
      },
    ]);
  });
});
