/**
 * The canonical comparison (DESIGN.md invariant 4): one notion of "the same document" for
 * verification, shadow reads and the mapping's round-trip tests.
 */
export { canonicalBytes } from './bytes.js';
export {
  type CanonicalDifference,
  type CanonicalDiffKind,
  type CanonicalDiffOptions,
  canonicalDiff,
  canonicalEqual,
} from './diff.js';
export { CANONICAL_HASH_MASK, canonicalHash } from './hash.js';
export { type CanonicalKind, type Classified, classify, normalizeFlags } from './kind.js';
export { type NumericValue, numberKey, numbersEqual } from './number.js';
