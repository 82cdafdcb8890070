import { Decimal128, type Document, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { canonicalDiff } from '../../../src/mapping/canonical/index.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import type { Plan } from '../../../src/mapping/model.js';
import type { DocumentRows } from '../../../src/mapping/row-values.js';
import { toDoc } from '../../../src/mapping/to-doc.js';
import { toRows } from '../../../src/mapping/to-rows.js';
import { defineTransforms } from '../../../src/mapping/transforms.js';
import { child, col, objectIdColumn, onePlan } from '../../support/plans.js';

const plan = onePlan('users', [
  {
    name: 'users',
    columns: [
      objectIdColumn,
      col('name', ['name'], 'text', 'string'),
      col('age', ['age'], 'integer', 'int'),
      col('address_city', ['address', 'city'], 'text', 'string'),
      col('address_geo_lat', ['address', 'geo', 'lat'], 'double precision', 'double'),
      col('tags', ['tags'], 'text[]', 'string'),
      col('prefs', ['prefs'], 'jsonb', 'object'),
      col('born', ['born'], 'timestamptz', 'date'),
      col('manager_id', ['managerId'], 'uuid', 'objectId'),
    ],
  },
  child('users_orders', 'users', ['orders'], 'array', [
    col('sku', ['sku'], 'text', 'string'),
    col('price', ['price'], 'numeric', 'decimal'),
  ]),
  child(
    'users_orders_notes',
    'users_orders',
    ['notes'],
    'array',
    [col('value', [], 'text', 'string')],
    ['parent_id', 'parent_idx'],
  ),
  child('users_scores', 'users', ['scores'], 'map', [col('value', [], 'bigint', 'long')]),
]);

const id = new ObjectId('65f0a1b2c3d4e5f601234567');
const uuid = objectIdToUuid(id);

function rows(doc: Document, p: Plan = plan, transforms = {}): DocumentRows {
  const result = toRows(p, 'users', doc, transforms);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.reject)}`);
  expect(canonicalDiff(toDoc(p, 'users', result.rows, transforms), doc)).toEqual([]);
  return result.rows;
}

function root(doc: Document): Record<string, unknown> {
  return rows(doc).get('users')![0]!;
}

function extra(doc: Document): unknown {
  const text = root(doc)._extra;
  return text === null ? null : JSON.parse(text as string);
}

describe('toRows', () => {
  it('maps _id to the reversible uuid and flattens sub-objects into columns', () => {
    const row = root({ _id: id, name: 'Ada', address: { city: 'London', geo: { lat: new Double(51.5) } } });
    expect(row).toMatchObject({
      id: uuid,
      name: 'Ada',
      address_city: 'London',
      address_geo_lat: '51.5',
      _extra: null,
    });
  });

  it('writes arrays of documents to a child table keyed (parent_id, idx), nested children on the parent key', () => {
    const result = rows({
      _id: id,
      orders: [
        { sku: 'a', price: Decimal128.fromString('9.90'), notes: ['x', 'y'] },
        { sku: 'b', notes: ['z'] },
      ],
    });
    expect(result.get('users_orders')).toEqual([
      { parent_id: uuid, idx: 0, sku: 'a', price: '9.90', _extra: null },
      { parent_id: uuid, idx: 1, sku: 'b', price: null, _extra: null },
    ]);
    expect(result.get('users_orders_notes')).toEqual([
      { parent_id: uuid, parent_idx: 0, idx: 0, value: 'x', _extra: null },
      { parent_id: uuid, parent_idx: 0, idx: 1, value: 'y', _extra: null },
      { parent_id: uuid, parent_idx: 1, idx: 0, value: 'z', _extra: null },
    ]);
  });

  it('writes map-shaped objects to a child table keyed (parent_id, key), keys with dots, $ and spaces intact', () => {
    const result = rows({
      _id: id,
      scores: { 'a.b': Long.fromString('1'), $x: Long.fromString('2'), 'c d': Long.ZERO },
    });
    expect(result.get('users_scores')!.map((r) => [r.key, r.value])).toEqual([
      ['a.b', '1'],
      ['$x', '2'],
      ['c d', '0'],
    ]);
  });

  it('stores scalar arrays as PostgreSQL arrays, with null elements', () => {
    expect(root({ _id: id, tags: ['a', null, ''] }).tags).toEqual(['a', null, '']);
    expect(root({ _id: id, tags: [] }).tags).toEqual([]);
  });

  it('stores a jsonb column as natural JSON, escaping $-leading keys', () => {
    const prefs = root({ _id: id, prefs: { n: new Int32(1), $numberLong: '5', '~t': true } }).prefs;
    expect(JSON.parse(prefs as string)).toEqual({ n: 1, '~$numberLong': '5', '~~t': true });
  });

  it('writes numbers JSON can hold as JSON numbers, and tags only the others', () => {
    const prefs = (value: unknown) => JSON.parse(root({ _id: id, prefs: { value } }).prefs as string).value;
    expect(prefs(new Int32(-7))).toBe(-7);
    expect(prefs(new Double(3.3))).toBe(3.3);
    expect(prefs(new Double(5))).toBe(5);
    expect(prefs(new Double(1e300))).toBe(1e300);
    expect(prefs(Long.fromString('9007199254740991'))).toBe(9007199254740991);
    expect(prefs(Long.fromString('9007199254740992'))).toEqual({ $numberLong: '9007199254740992' });
    expect(prefs(Long.fromString('-9223372036854775808'))).toEqual({ $numberLong: '-9223372036854775808' });
    expect(prefs(new Double(-0))).toEqual({ $numberDouble: '-0.0' });
    expect(prefs(new Double(Number.NaN))).toEqual({ $numberDouble: 'NaN' });
    expect(prefs(new Double(Number.NEGATIVE_INFINITY))).toEqual({ $numberDouble: '-Infinity' });
    expect(prefs(Decimal128.fromString('1.10'))).toEqual({ $numberDecimal: '1.10' });
    expect(prefs(new Date(0))).toEqual({ $date: { $numberLong: '0' } });
    expect(prefs(id)).toEqual({ $oid: id.toHexString() });
  });

  it('puts fields without a column into _extra, nested as in the document', () => {
    expect(extra({ _id: id, nickname: 'A', address: { city: 'X', zip: new Int32(1) } })).toEqual({
      nickname: 'A',
      address: { zip: 1 },
    });
  });

  it('tells missing from null: a NULL column alone is missing, null is recorded in _extra', () => {
    const missing = root({ _id: id });
    const explicit = root({ _id: id, name: null });
    expect(missing.name).toBeNull();
    expect(explicit.name).toBeNull();
    expect(missing._extra).toBeNull();
    expect(JSON.parse(explicit._extra as string)).toEqual({ name: null });
  });

  it('keeps BSON undefined wherever it stands, as {"$undefined":true} in _extra, and restores it', () => {
    const undef = { $undefined: true };
    // A mapped column, a field without a column, and one inside a flattened object.
    expect(extra({ _id: id, name: undefined, other: undefined, address: { city: undefined } })).toEqual({
      name: undef,
      other: undef,
      address: { city: undef },
    });
    // An array column has no element for it: the whole array goes to _extra.
    expect(extra({ _id: id, tags: ['a', undefined] })).toEqual({ tags: ['a', undef] });
    expect(JSON.parse(root({ _id: id, prefs: { x: undefined } }).prefs as string)).toEqual({ x: undef });
    // In child tables: an array element and a map value.
    const result = rows({ _id: id, orders: [undefined, { sku: 'a' }], scores: { q1: undefined } });
    expect(result.get('users_orders')!.map((r) => r._extra)).toEqual(['{"$undefined":true}', null]);
    expect(result.get('users_scores')![0]!._extra).toBe('{"$undefined":true}');
    // rows() has checked that toDoc gives back each document, undefined included; and that is
    // a real check: the same rows without the key compare unequal.
    expect(canonicalDiff({ _id: id, name: undefined }, { _id: id })).toEqual([
      { path: 'name', kind: 'missing_right', left: undefined },
    ]);
  });

  it('tells an empty object, array or map from a missing one', () => {
    expect(extra({ _id: id, address: {} })).toEqual({ address: {} });
    expect(extra({ _id: id, address: { geo: {} } })).toEqual({ address: { geo: {} } });
    expect(extra({ _id: id, orders: [] })).toEqual({ orders: [] });
    expect(extra({ _id: id, scores: {} })).toEqual({ scores: {} });
    expect(extra({ _id: id })).toBeNull();
  });

  it('sends a value of another type to _extra whole instead of coercing it', () => {
    expect(extra({ _id: id, age: '42', address: 'n/a', tags: ['a', new Int32(1)] })).toEqual({
      age: '42',
      address: 'n/a',
      tags: ['a', 1],
    });
    expect(extra({ _id: id, age: Long.fromString('42') })).toEqual({ age: 42 });
    const item = rows({ _id: id, orders: [{ price: new Double(9.9) }, 'loose'] }).get('users_orders')!;
    expect(item.map((r) => JSON.parse(r._extra as string))).toEqual([{ price: 9.9 }, 'loose']);
  });

  it('rejects a string with NUL, naming the path', () => {
    expect(toRows(plan, 'users', { _id: id, orders: [{ sku: 'a\u0000b' }] })).toEqual({
      ok: false,
      reject: {
        code: 'STRING_CONTAINS_NUL',
        path: 'orders.0.sku',
        reason: expect.stringContaining('offset 1'),
      },
    });
    expect(toRows(plan, 'users', { _id: id, other: { deep: ['\u0000'] } })).toMatchObject({
      reject: { code: 'STRING_CONTAINS_NUL', path: 'other.deep.0' },
    });
    expect(toRows(plan, 'users', { _id: id, 'k\u0000': 1 })).toMatchObject({
      reject: { code: 'KEY_INVALID' },
    });
    expect(toRows(plan, 'users', { _id: id, name: 'a\ud800' })).toMatchObject({
      reject: { code: 'STRING_INVALID_UNICODE', path: 'name' },
    });
  });

  it('rejects a date outside PostgreSQL timestamptz, never shifting it', () => {
    expect(toRows(plan, 'users', { _id: id, born: new Date(Date.UTC(-4713, 10, 23)) })).toMatchObject({
      ok: false,
      reject: { code: 'DATE_OUT_OF_RANGE', path: 'born' },
    });
    expect(toRows(plan, 'users', { _id: id, born: new Date(Number.NaN) })).toMatchObject({
      reject: { code: 'DATE_OUT_OF_RANGE' },
    });
    expect(root({ _id: id, born: new Date(Date.UTC(-4713, 10, 24)) }).born).toBe(
      '4714-11-24 00:00:00.000+00 BC',
    );
  });

  it('rebuilds a date another writer stored with microseconds truncated to its millisecond, never rounded up', () => {
    const stored = rows({ _id: id, born: new Date(Date.UTC(2024, 0, 1)) });
    const users = stored.get('users')![0]!;
    for (const [text, ms] of [
      ['2024-05-01 10:00:00.123999+00', 123],
      ['2024-05-01 10:00:00.9999+02', 999],
      ['1969-12-31 23:59:59.0005+00', 0],
    ] as const) {
      const withMicros = new Map(stored).set('users', [{ ...users, born: text }]);
      expect((toDoc(plan, 'users', withMicros).born as Date).getUTCMilliseconds()).toBe(ms);
    }
  });

  it('rejects documents without a usable _id', () => {
    expect(toRows(plan, 'users', { name: 'x' })).toMatchObject({
      reject: { code: 'ID_MISSING', path: '_id' },
    });
    expect(toRows(plan, 'users', { _id: 'x' })).toMatchObject({ reject: { code: 'ID_TYPE_MISMATCH' } });
  });

  it('rewrites ObjectId references with the same function as _id', () => {
    const manager = new ObjectId();
    expect(root({ _id: id, managerId: manager }).manager_id).toBe(objectIdToUuid(manager));
  });

  it('keeps __proto__ keys as data', () => {
    const doc = JSON.parse('{"__proto__": {"x": "y"}}') as Document;
    rows({ _id: id, ...doc, prefs: JSON.parse('{"__proto__": "v"}') });
  });
});

describe('transforms', () => {
  const cents = defineTransforms({
    cents: {
      toColumn: (v) => Long.fromString((v as Decimal128).toString().replace('.', '')),
      fromColumn: (v) => {
        const text = (v as Long).toString().padStart(3, '0');
        return Decimal128.fromString(`${text.slice(0, -2)}.${text.slice(-2)}`);
      },
    },
    lossy: {
      toColumn: (v) => Long.fromNumber(Math.round(Number((v as Decimal128).toString()))),
      fromColumn: (v) => v,
    },
  });
  const transformed = onePlan(
    'users',
    [
      {
        name: 'users',
        columns: [
          objectIdColumn,
          col('price_cents', ['price'], 'bigint', 'long', { transform: 'cents' }),
          col('rounded', ['rounded'], 'bigint', 'long', { transform: 'lossy' }),
        ],
      },
    ],
    cents,
  );

  it('applies toColumn on the way in and fromColumn on the way out', () => {
    const result = rows({ _id: id, price: Decimal128.fromString('12.34') }, transformed, {
      transforms: cents,
    });
    expect(result.get('users')![0]!.price_cents).toBe('1234');
  });

  it('rejects a value the transform cannot restore', () => {
    const result = toRows(
      transformed,
      'users',
      { _id: id, rounded: Decimal128.fromString('1.5') },
      { transforms: cents },
    );
    expect(result).toMatchObject({
      ok: false,
      reject: { code: 'TRANSFORM_NOT_REVERSIBLE', path: 'rounded' },
    });
  });

  it('refuses a one-way transform when it is registered', () => {
    expect(() => defineTransforms({ oneWay: { toColumn: (v) => v } })).toThrow(/no fromColumn/);
  });

  it('refuses to map with a plan whose transform is not registered', () => {
    expect(() => toRows(transformed, 'users', { _id: id })).toThrow(/not registered/);
  });
});
