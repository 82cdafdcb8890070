/**
 * A path into a document as key segments. Two markers stand for many keys at once:
 * - `[]`: every element of an array (`items.[].price`);
 * - `*`: every value of an object judged to be a map (`prices.*`, keys are data).
 *
 * A real key spelled exactly like a marker, or starting with a backslash, is escaped with
 * one leading backslash, so segments stay unambiguous without a nested JSON shape.
 */
export type FieldPath = readonly string[];

/** The segment for "any element of this array". */
export const ELEMENT = '[]';
/** The segment for "any value of this map-like object". */
export const ANY_KEY = '*';

/**
 * The segment for a real object key.
 *
 * @example
 * keySegment('price'); // 'price'
 * keySegment('*'); // '\\*'
 */
export function keySegment(key: string): string {
  return key === ELEMENT || key === ANY_KEY || key.startsWith('\\') ? `\\${key}` : key;
}

/**
 * Dotted form for people and for map keys of path-indexed results; the segment array is
 * the exact form (keys may contain dots since MongoDB 5.0).
 *
 * @example
 * formatPath(['items', '[]', 'price']); // 'items.[].price'
 */
export function formatPath(path: FieldPath): string {
  return path.join('.');
}

/**
 * Total order on paths: segment by segment in code-unit order, a parent before its
 * children. Used wherever a snapshot lists paths, so output is deterministic.
 *
 * @example
 * [['b'], ['a', 'x'], ['a']].sort(comparePaths); // [['a'], ['a', 'x'], ['b']]
 */
export function comparePaths(a: FieldPath, b: FieldPath): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Code-unit string order, independent of the process locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
