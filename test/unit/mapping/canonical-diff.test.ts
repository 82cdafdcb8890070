import { Decimal128, Double, Int32 } from 'bson';
import { describe, expect, it } from 'vitest';
import { canonicalDiff } from '../../../src/mapping/canonical/index.js';

describe('canonicalDiff', () => {
  it('reports nothing for equal documents', () => {
    expect(canonicalDiff({ a: [1, { b: 2 }] }, { a: [new Int32(1), { b: new Double(2) }] })).toEqual([]);
  });

  it('names the one differing field inside an array of sub-documents', () => {
    const left = {
      items: [
        { sku: 'a', price: Decimal128.fromString('9.99') },
        { sku: 'b', price: 1 },
      ],
    };
    const right = {
      items: [
        { sku: 'a', price: 9.99 },
        { sku: 'b', price: 1 },
      ],
    };
    expect(canonicalDiff(left, right)).toEqual([
      { path: 'items.0.price', kind: 'value', left: left.items[0]!.price, right: 9.99 },
    ]);
  });

  it('reports keys missing on either side, and null is not missing', () => {
    expect(canonicalDiff({ a: { x: 1, y: null } }, { a: { x: 1, z: 2 } })).toEqual([
      { path: 'a.y', kind: 'missing_right', left: null },
      { path: 'a.z', kind: 'missing_left', right: 2 },
    ]);
  });

  it('reports extra array elements by index and keeps array order significant', () => {
    expect(canonicalDiff({ t: [[1, 2], [3]] }, { t: [[1, 2, 9], []] })).toEqual([
      { path: 't.0.2', kind: 'missing_left', right: 9 },
      { path: 't.1.0', kind: 'missing_right', left: 3 },
    ]);
    expect(canonicalDiff([1, 2], [2, 1]).map((d) => d.path)).toEqual(['0', '1']);
  });

  it('reports a type difference where kinds differ, not a value difference', () => {
    expect(canonicalDiff({ a: [] }, { a: {} })).toEqual([{ path: 'a', kind: 'type', left: [], right: {} }]);
    expect(canonicalDiff({ a: new Int32(5) }, { a: '5' })[0]?.kind).toBe('type');
    expect(canonicalDiff({ a: new Int32(5) }, { a: new Double(5.5) })[0]?.kind).toBe('value');
  });

  it('treats a whole missing value at the root as missing', () => {
    expect(canonicalDiff(undefined, { a: 1 })).toEqual([{ path: '', kind: 'missing_left', right: { a: 1 } }]);
    expect(canonicalDiff(null, undefined)).toEqual([{ path: '', kind: 'missing_right', left: null }]);
  });

  it('stops at the limit and prefixes paths when asked', () => {
    const left = { a: 1, b: 1, c: 1 };
    const right = { a: 2, b: 2, c: 2 };
    expect(canonicalDiff(left, right)).toHaveLength(3);
    expect(canonicalDiff(left, right, { limit: 1 })).toEqual([
      { path: 'a', kind: 'value', left: 1, right: 2 },
    ]);
    expect(canonicalDiff(left, right, { limit: 2, path: 'doc' }).map((d) => d.path)).toEqual([
      'doc.a',
      'doc.b',
    ]);
  });

  it('uses dotted paths for keys deep in nested objects', () => {
    const deep = (v: number) => ({ l1: { l2: { l3: { l4: { l5: { l6: { l7: { l8: [0, { v }] } } } } } } } });
    expect(canonicalDiff(deep(1), deep(2)).map((d) => d.path)).toEqual(['l1.l2.l3.l4.l5.l6.l7.l8.1.v']);
  });
});
