import { Binary, Decimal128, type Document, Double, Int32, Long, ObjectId } from 'bson';
import pg from 'pg';
import { describe, expect } from 'vitest';
import { canonicalDiff } from '../../../src/mapping/canonical/index.js';
import { discriminatorCheck, type Plan, physicalColumns, quoteIdent } from '../../../src/mapping/model.js';
import { ferryTypes } from '../../../src/mapping/pg-parsers.js';
import type { RowValues } from '../../../src/mapping/row-values.js';
import { toDoc } from '../../../src/mapping/to-doc.js';
import { toRows } from '../../../src/mapping/to-rows.js';
import { test as base } from '../../support/fixtures.js';
import { child, col, objectIdColumn, onePlan, table } from '../../support/plans.js';
import { postgresUrl } from '../../support/services.js';

/**
 * The row representation is right for real PostgreSQL: rows from toRows go in through the
 * pg driver, come back through ferryTypes, and toDoc restores the documents canonically.
 * Tables are created by hand-written SQL here, on purpose: this test checks the values, not
 * a DDL compiler.
 */
const plan: Plan = onePlan('accounts', [
  table(
    'accounts',
    [
      objectIdColumn,
      col('name', ['name'], 'text', 'string'),
      col('balance', ['balance'], 'numeric', 'decimal'),
      col('money', ['money'], 'numeric(38,18)', 'decimal'),
      col('big', ['big'], 'bigint', 'long'),
      col('ratio', ['ratio'], 'double precision', 'double'),
      col('small', ['small'], 'integer', 'int'),
      col('mixed', ['mixed'], 'numeric', 'number'),
      col('created', ['created'], 'timestamptz', 'date'),
      col('blob', ['blob'], 'bytea', 'binData'),
      col('active', ['active'], 'boolean', 'bool'),
      col('tags', ['tags'], 'text[]', 'string'),
      col('amounts', ['amounts'], 'numeric[]', 'decimal'),
      col('longs', ['longs'], 'bigint[]', 'long'),
      col('doubles', ['doubles'], 'double precision[]', 'double'),
      col('dates', ['dates'], 'timestamptz[]', 'date'),
      col('meta', ['meta'], 'jsonb', 'any'),
      col('address_city', ['address', 'city'], 'text', 'string'),
    ],
    {
      discriminators: [
        {
          path: ['owner'],
          columns: { kind: 'owner_kind', id: 'owner_id', ref: 'owner_ref' },
          kinds: [
            { name: 'user', idType: 'objectId' },
            { name: 'team', idType: 'string' },
          ],
        },
      ],
    },
  ),
  child('accounts_entries', 'accounts', ['entries'], 'array', [
    col('amount', ['amount'], 'numeric', 'decimal'),
    col('at', ['at'], 'timestamptz', 'date'),
  ]),
  child(
    'accounts_entries_marks',
    'accounts_entries',
    ['marks'],
    'array',
    [col('value', [], 'text', 'string')],
    ['parent_id', 'parent_idx'],
  ),
  child('accounts_limits', 'accounts', ['limits'], 'map', [col('value', [], 'bigint', 'long')]),
]);

const collection = plan.collections[0]!;

/** Hand-written DDL for the plan above (what the schema compiler will one day generate). */
const DDL = `
create table accounts (
  id uuid primary key, name text, balance numeric, money numeric(38,18), big bigint, ratio double precision,
  small integer, mixed numeric, created timestamptz, blob bytea, active boolean, tags text[], amounts numeric[],
  longs bigint[], doubles double precision[], dates timestamptz[], meta jsonb, address_city text,
  owner_kind text, owner_id uuid, owner_ref text, _extra jsonb,
  constraint owner_kind_check check (${discriminatorCheck(collection.tables[0]!.discriminators![0]!)})
);
create table accounts_entries (
  parent_id uuid not null references accounts (id) on delete cascade, idx integer not null,
  amount numeric, at timestamptz, _extra jsonb, primary key (parent_id, idx)
);
create table accounts_entries_marks (
  parent_id uuid not null, parent_idx integer not null, idx integer not null, value text, _extra jsonb,
  primary key (parent_id, parent_idx, idx),
  foreign key (parent_id, parent_idx) references accounts_entries (parent_id, idx) on delete cascade
);
create table accounts_limits (
  parent_id uuid not null references accounts (id) on delete cascade, key text not null,
  value bigint, _extra jsonb, primary key (parent_id, key)
);`;

const D = (s: string) => Decimal128.fromString(s);
const L = (s: string) => Long.fromString(s);

const docs: Document[] = [
  {
    _id: new ObjectId('65f0a1b2c3d4e5f601234567'),
    name: 'Zoë 🚢 "quoted" \\ back\tslash',
    balance: D('1234567890123456789012345678901234'), // 34 digits
    money: D('1234567890123456.123456789012345678'), // 34 digits, scale 18
    big: L('9223372036854775807'),
    ratio: new Double(0.1),
    small: new Int32(-2147483648),
    mixed: new Double(0.5),
    created: new Date('2024-02-29T23:59:59.999Z'),
    blob: new Binary(Buffer.from([0, 1, 2, 255, 0]), 0),
    active: false,
    tags: ['a', '', 'with,comma', 'with "quote"', 'NULL', null, 'ü'],
    amounts: [D('1E+6111'), D('-15E-6176'), D('0.10'), null],
    longs: [L('-9223372036854775808'), L('9007199254740993')],
    doubles: [
      new Double(-0),
      new Double(Number.NaN),
      new Double(Number.POSITIVE_INFINITY),
      new Double(5e-324),
    ],
    dates: [new Date(Date.UTC(-4713, 10, 24)), new Date(8.64e15), new Date(Date.UTC(0, 0, 1))],
    meta: {
      $numberLong: 'not a long',
      'dotted.key': [new Int32(1), { 'sp ace': null }],
      '': {},
      // Numbers jsonb holds as JSON numbers, and the ones it cannot (kept as wrappers).
      numbers: [
        new Double(0.1),
        new Double(1e300),
        new Double(5e-324),
        new Double(2 ** 53 + 2),
        new Double(-1.5e-7),
        L('9007199254740991'),
        L('9007199254740993'),
        new Double(-0),
        new Double(Number.NaN),
        D('1E+3'),
      ],
    },
    address: { city: 'Zürich', zip: new Int32(8000) },
    owner: new ObjectId('65f0a1b2c3d4e5f601234568'),
    entries: [
      { amount: D('-0.000000000000000000000000000000001'), at: new Date(-62135596800000), marks: ['x', 'y'] },
      { amount: 'not a decimal', marks: [] },
      {},
      null,
    ],
    limits: { 'a.b': L('1'), $weird: L('-2'), 'with space': new Int32(3), '': L('4') },
    unmapped: { deep: [{ deeper: new Decimal128('NaN') }] },
  },
  {
    _id: new ObjectId('65f0a1b2c3d4e5f601234569'),
    name: null,
    balance: D('NaN'),
    money: D('1.0000000000000000001'), // 19 decimals: does not fit numeric(38,18), goes to _extra
    big: new Int32(5), // not a long: _extra
    ratio: new Double(Number.NEGATIVE_INFINITY),
    mixed: L('-9223372036854775808'),
    created: new Date(Date.UTC(-4713, 10, 24, 0, 0, 0, 1)),
    tags: [],
    meta: null,
    address: {},
    owner: 'team-42',
    entries: [],
    limits: {},
  },
  {
    _id: new ObjectId('65f0a1b2c3d4e5f60123456a'),
    balance: D('Infinity'),
    ratio: new Double(1.7976931348623157e308),
    mixed: D('-0'),
    address: 'not an object',
    entries: [{ marks: [new Int32(1), 'ok'] }],
  },
];

const pgUrl = postgresUrl();

const test = base.extend<{ client: pg.Client }>({
  /** A plain pg connection that parses values as Ferry does, to tables made by the DDL above. */
  client: [
    async ({ pgUrl }, use) => {
      const client = new pg.Client({ connectionString: pgUrl, types: ferryTypes });
      await client.connect();
      try {
        await client.query(DDL);
        await use(client);
      } finally {
        await client.end();
      }
    },
    { scope: 'file' },
  ],
});

describe.skipIf(!pgUrl)('toRows and toDoc through real PostgreSQL', () => {
  async function insert(client: pg.Client, rows: ReadonlyMap<string, readonly RowValues[]>): Promise<void> {
    for (const table of collection.tables) {
      const names = physicalColumns(collection, table).map((c) => c.name);
      for (const row of rows.get(table.name) ?? []) {
        const sql = `insert into ${quoteIdent(table.name)} (${names.map(quoteIdent).join(', ')}) values (${names
          .map((_, i) => `$${i + 1}`)
          .join(', ')})`;
        await client.query(sql, names.map((n) => row[n]) as unknown[]);
      }
    }
  }

  async function readBack(client: pg.Client, id: string): Promise<Map<string, RowValues[]>> {
    const out = new Map<string, RowValues[]>();
    for (const table of collection.tables) {
      const key = table.parent === undefined ? 'id' : 'parent_id';
      const { rows } = await client.query(`select * from ${quoteIdent(table.name)} where ${key} = $1`, [id]);
      out.set(table.name, rows);
    }
    return out;
  }

  test('stores and restores every nasty document exactly, in any session time zone', async ({ client }) => {
    for (const [i, doc] of docs.entries()) {
      const result = toRows(plan, 'accounts', doc);
      if (!result.ok) throw new Error(`document ${i} rejected: ${JSON.stringify(result.reject)}`);
      await insert(client, result.rows);
    }
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns']) {
      await client.query(`set time zone '${zone}'`);
      for (const [i, doc] of docs.entries()) {
        const result = toRows(plan, 'accounts', doc);
        if (!result.ok) throw new Error('unreachable');
        const id = result.rows.get('accounts')![0]!.id as string;
        const back = toDoc(plan, 'accounts', await readBack(client, id));
        expect(canonicalDiff(doc, back), `document ${i} in ${zone}`).toEqual([]);
      }
    }
  });

  test('returns int8 and numeric as exact text, timestamptz as text and jsonb as text', async ({
    client,
  }) => {
    await client.query(`set time zone 'UTC'`);
    const { rows } = await client.query(
      `select big, balance, created, meta, longs, amounts from accounts where id = $1`,
      [toRowsId(docs[0]!)],
    );
    const row = rows[0] as Record<string, unknown>;
    expect(row.big).toBe('9223372036854775807');
    expect(row.balance).toBe('1234567890123456789012345678901234');
    expect(row.created).toBe('2024-02-29 23:59:59.999+00');
    expect(typeof row.meta).toBe('string');
    expect(row.longs).toEqual(['-9223372036854775808', '9007199254740993']);
    expect((row.amounts as string[])[2]).toBe('0.10');
  });

  test('stores numbers in jsonb as JSON numbers, so SQL compares them as numbers', async ({ client }) => {
    const prices = [new Double(3.3), new Int32(2), L('7'), new Double(2.99)];
    for (const [i, price] of prices.entries()) {
      const doc = {
        _id: new ObjectId(`65f0a1b2c3d4e5f6012346${String(i).padStart(2, '0')}`),
        meta: { price },
      };
      const result = toRows(plan, 'accounts', doc);
      if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.reject)}`);
      await insert(client, result.rows);
      const back = toDoc(
        plan,
        'accounts',
        await readBack(client, result.rows.get('accounts')![0]!.id as string),
      );
      expect(canonicalDiff(doc, back)).toEqual([]);
    }
    const { rows } = await client.query<{ price: string }>(
      `select meta->>'price' as price from accounts where (meta->>'price')::numeric > 3 order by 1`,
    );
    expect(rows.map((r) => r.price)).toEqual(['3.3', '7']);
  });

  test('keeps the discriminator honest with its CHECK constraint', async ({ client }) => {
    await expect(
      client.query(
        `insert into accounts (id, owner_kind, owner_id, owner_ref) values (gen_random_uuid(), 'team', gen_random_uuid(), null)`,
      ),
    ).rejects.toThrow(/owner_kind_check/);
  });
});

function toRowsId(doc: Document): string {
  const result = toRows(plan, 'accounts', doc);
  if (!result.ok) throw new Error('rejected');
  return result.rows.get('accounts')![0]!.id as string;
}
