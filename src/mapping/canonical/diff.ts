import type { Document } from 'bson';
import { type Classified, classify } from './kind.js';
import { numbersEqual } from './number.js';

/**
 * How two values differ at one path:
 * - `missing_left`: the right side has a value where the left has none (absent key or a
 *   shorter array); `missing_right` the other way round;
 * - `type`: both present, different kinds (a string vs a number, an object vs an array);
 * - `value`: same kind, different value (numbers of any BSON type are one kind).
 */
export type CanonicalDiffKind = 'missing_left' | 'missing_right' | 'value' | 'type';

/**
 * One difference; `left`/`right` are the values as given (absent when missing).
 *
 * @example
 * import { Decimal128, Double } from 'bson';
 * canonicalDiff({ price: new Double(9.5) }, { price: new Decimal128('9.50') }); // []
 * canonicalDiff({ a: 1 }, { a: '1' }); // [{ path: 'a', kind: 'type', left: 1, right: '1' }]
 */
export interface CanonicalDifference {
  /** Dotted path from the root, array indexes included: `items.3.price`; `''` is the root. */
  readonly path: string;
  readonly kind: CanonicalDiffKind;
  readonly left?: unknown;
  readonly right?: unknown;
}

/**
 * How much of a difference `canonicalDiff` reports, and under which path.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const sourceDoc: Document;
 * declare const rebuiltDoc: Document;
 * canonicalDiff(sourceDoc, rebuiltDoc, { limit: 10, path: 'orders' });
 */
export interface CanonicalDiffOptions {
  /** Stop after this many differences (default: report all). */
  readonly limit?: number;
  /** Prefix for every reported path, e.g. the collection's field being compared. */
  readonly path?: string;
}

/**
 * Whether two documents (or any two values) are equal under DESIGN.md invariant 4: object
 * key order ignored, array order kept, numbers by exact value across BSON types, missing is
 * not null (nor BSON undefined), other BSON types by type and value. See `kind.ts` and `number.ts` for the edge
 * cases (NaN = NaN, -0 = 0, regex flags as a set).
 *
 * @example
 * import { Double, Int32 } from 'bson';
 * import { Long } from 'bson';
 * canonicalEqual({ a: new Int32(5), b: [1] }, { b: [new Long(1)], a: new Double(5) }); // true
 * canonicalEqual({ a: null }, {});                                                    // false
 */
export function canonicalEqual(a: unknown, b: unknown): boolean {
  return compareRoots(a, b, '', new Collector(1, false));
}

/**
 * Every path where two values differ, in document order (left's keys first, then keys only
 * on the right). Equal values give `[]`. Used to report the one field that broke a match.
 *
 * @example
 * import { Decimal128 } from 'bson';
 * canonicalDiff({ items: [{ price: Decimal128.fromString('9.99') }] },
 *               { items: [{ price: 9.99 }] });
 * // [{ path: 'items.0.price', kind: 'value', left: Decimal128('9.99'), right: 9.99 }]
 */
export function canonicalDiff(
  a: unknown,
  b: unknown,
  options: CanonicalDiffOptions = {},
): CanonicalDifference[] {
  const collector = new Collector(options.limit ?? Number.POSITIVE_INFINITY, true);
  compareRoots(a, b, options.path ?? '', collector);
  return collector.found;
}

/** Gathers differences; `compare` returns false as soon as the limit is reached. */
class Collector {
  readonly found: CanonicalDifference[] = [];
  private count = 0;
  constructor(
    private readonly limit: number,
    private readonly keep: boolean,
  ) {}

  /** Record one difference; true while more are wanted. */
  add(difference: CanonicalDifference): boolean {
    this.count++;
    if (this.keep) this.found.push(difference);
    return this.count < this.limit;
  }

  get done(): boolean {
    return this.count >= this.limit;
  }
}

/**
 * An absent key or array slot. Distinct from `undefined`, which inside a document is the BSON
 * `undefined` value (see kind.ts); only the two roots use `undefined` for "nothing here".
 */
const ABSENT: unique symbol = Symbol('absent');

/** At the roots, `undefined` means "no value" (a document is never BSON undefined). */
function compareRoots(a: unknown, b: unknown, path: string, out: Collector): boolean {
  return compare(a === undefined ? ABSENT : a, b === undefined ? ABSENT : b, path, out);
}

/** Returns whether everything compared so far is equal; records differences on the way. */
function compare(a: unknown, b: unknown, path: string, out: Collector): boolean {
  if (a === ABSENT || b === ABSENT) {
    if (a === b) return true;
    out.add(
      a === ABSENT ? { path, kind: 'missing_left', right: b } : { path, kind: 'missing_right', left: a },
    );
    return false;
  }
  if (a === b) return true; // same reference, or same primitive (NaN is handled below)
  const left = classify(a, path);
  const right = classify(b, path);
  if (left.kind !== right.kind) {
    out.add({ path, kind: 'type', left: a, right: b });
    return false;
  }
  if (left.kind === 'object') return compareObjects(left.value, (right as typeof left).value, path, out);
  if (left.kind === 'array') return compareArrays(left.value, (right as typeof left).value, path, out);
  if (scalarsEqual(left, right)) return true;
  out.add({ path, kind: 'value', left: a, right: b });
  return false;
}

function compareObjects(a: Document, b: Document, path: string, out: Collector): boolean {
  let equal = true;
  for (const key of Object.keys(a)) {
    const right = Object.hasOwn(b, key) ? b[key] : ABSENT;
    if (!compare(a[key], right, join(path, key), out)) {
      equal = false;
      if (out.done) return false;
    }
  }
  for (const key of Object.keys(b)) {
    if (Object.hasOwn(a, key)) continue;
    equal = false;
    if (!out.add({ path: join(path, key), kind: 'missing_left', right: b[key] })) return false;
  }
  return equal;
}

function compareArrays(a: readonly unknown[], b: readonly unknown[], path: string, out: Collector): boolean {
  let equal = true;
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    if (!compare(a[i], b[i], join(path, String(i)), out)) {
      equal = false;
      if (out.done) return false;
    }
  }
  for (let i = shared; i < a.length; i++) {
    equal = false;
    if (!out.add({ path: join(path, String(i)), kind: 'missing_right', left: a[i] })) return false;
  }
  for (let i = shared; i < b.length; i++) {
    equal = false;
    if (!out.add({ path: join(path, String(i)), kind: 'missing_left', right: b[i] })) return false;
  }
  return equal;
}

/** Same-kind comparison of everything but objects and arrays. */
function scalarsEqual(a: Classified, b: Classified): boolean {
  switch (a.kind) {
    case 'null':
    case 'undefined':
    case 'minKey':
    case 'maxKey':
      return true;
    case 'boolean':
    case 'string':
    case 'symbol':
      return a.value === (b as typeof a).value;
    case 'number':
      return numbersEqual(a.value, (b as typeof a).value);
    case 'objectId':
      return bytesEqual(a.value.id, (b as typeof a).value.id);
    case 'date': {
      const other = (b as typeof a).value;
      return a.value === other || (Number.isNaN(a.value) && Number.isNaN(other));
    }
    case 'binary': {
      const other = b as typeof a;
      return a.subtype === other.subtype && bytesEqual(a.bytes, other.bytes);
    }
    case 'timestamp': {
      const other = b as typeof a;
      return a.t === other.t && a.i === other.i;
    }
    case 'regex': {
      const other = b as typeof a;
      return a.pattern === other.pattern && a.flags === other.flags;
    }
    case 'code': {
      const other = b as typeof a;
      if (a.code !== other.code) return false;
      if (a.scope === null || other.scope === null) return a.scope === other.scope;
      return canonicalEqual(a.scope, other.scope);
    }
    case 'object':
    case 'array':
      return canonicalEqual(a.value, (b as typeof a).value);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
