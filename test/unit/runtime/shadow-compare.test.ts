import { Double, Int32, Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { cleanValues } from '../../../src/runtime/shadow/clean-values.js';
import { compareResults } from '../../../src/runtime/shadow/compare-results.js';
import { applyProjection } from '../../../src/runtime/shadow/projection.js';
import { sortDocuments } from '../../../src/runtime/shadow/sort-documents.js';

describe('the shadow comparison', () => {
  it('treats numbers of different BSON types with equal values, and reordered keys, as equal', () => {
    expect(
      compareResults({ _id: 1, a: new Int32(5), b: 2 }, { b: new Long(2), _id: 1, a: new Double(5) }, {}),
    ).toEqual([]);
  });

  it('reports a missing field apart from a null one, with each side holding only its own value', () => {
    const [d] = compareResults({ _id: 1, a: null }, { _id: 1 }, {});
    expect(d).toEqual({ docId: 1, paths: ['a'], primary: { a: null }, candidate: {} });
  });

  it('reports a document only one side has under the path of the whole document', () => {
    const found = compareResults([{ _id: 1 }], [{ _id: 1 }, { _id: 2, x: 1 }], {});
    expect(found).toEqual([{ docId: 2, paths: [''], primary: {}, candidate: { '': { _id: 2, x: 1 } } }]);
  });

  it('lets documents that tie under the sort come in either order, but not the others', () => {
    const a = { _id: 1, rank: 1 };
    const b = { _id: 2, rank: 1 };
    const c = { _id: 3, rank: 2 };
    expect(compareResults([a, b, c], [b, a, c], { sort: { rank: 1 } })).toEqual([]);
    expect(compareResults([a, b, c], [c, a, b], { sort: { rank: 1 } })[0]?.paths).toEqual(['$order']);
  });

  it('projects into arrays of sub-documents the way MongoDB does', () => {
    const doc = {
      _id: 1,
      items: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 2 },
      ],
      note: 'x',
    };
    expect(applyProjection(doc, { 'items.sku': 1 })).toEqual({ _id: 1, items: [{ sku: 'a' }, { sku: 'b' }] });
    expect(applyProjection(doc, { 'items.qty': 0, _id: 0 })).toEqual({
      items: [{ sku: 'a' }, { sku: 'b' }],
      note: 'x',
    });
    expect(() => applyProjection(doc, { items: { $slice: 1 } })).toThrow(
      expect.objectContaining({ code: 'SHADOW_UNSUPPORTED_PROJECTION' }),
    );
  });

  it('sorts numbers across BSON types by value, descending where asked', () => {
    const docs = [
      { _id: 1, n: new Long(3) },
      { _id: 2, n: 10 },
      { _id: 3, n: new Int32(-1) },
    ];
    expect(sortDocuments(docs, { n: -1 }).map((d) => d._id)).toEqual([2, 1, 3]);
  });

  it('stores values as canonical Extended JSON with long strings and arrays cut and NUL escaped', () => {
    const cleaned = cleanValues(
      { n: new Long(7), s: 'ab\u0000cdef', list: [1, 2, 3] },
      { maxStringLength: 4, maxArrayLength: 2 },
    );
    expect(cleaned).toEqual({
      n: { $numberLong: '7' },
      s: 'ab\\u… (12 characters)',
      list: [{ $numberInt: '1' }, { $numberInt: '2' }, '… (3 elements)'],
    });
  });
});
