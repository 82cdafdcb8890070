import type { CollectionState } from './collection-state.js';
import { type FieldNode, ID_KINDS, type IdKind } from './field-node.js';
import { comparePaths, compareStrings, type FieldPath, formatPath } from './field-path.js';
import { round } from './map-likeness.js';

/** A path holding id-like values, handed from the snapshot walk to reference detection. */
export interface IdPath {
  readonly collection: string;
  readonly path: FieldPath;
  readonly node: FieldNode;
}

/** Thresholds of reference detection. */
export interface ReferenceOptions {
  /** A target is listed when at least this share of the path's values are its ids (default 0.05). */
  readonly candidateOverlap: number;
  /** The path is a reference when its values covered by targets reach this share (default 0.5). */
  readonly minCoverage: number;
}

/** Defaults: lenient listing, so the report can explain a weak candidate instead of hiding it. */
export const DEFAULT_REFERENCE_OPTIONS: ReferenceOptions = { candidateOverlap: 0.05, minCoverage: 0.5 };

/** How much of a path's values (of one kind) are `_id`s of one collection. */
export interface ReferenceTarget {
  readonly collection: string;
  /** matched / compared, 4 decimals. */
  readonly overlap: number;
  readonly matched: number;
  /** Values compared: all distinct values when exact, else the common hash sample. */
  readonly compared: number;
  /** Both sides held every value: the overlap is exact (up to 53-bit hash collisions). */
  readonly exact: boolean;
  /** False when the target's `_id`s were only partly read (a first-N sample): overlap understates. */
  readonly targetComplete: boolean;
}

/** Targets of one kind of id value at a path. */
export interface ReferenceKind {
  readonly kind: IdKind;
  readonly distinct: number;
  readonly targets: readonly ReferenceTarget[];
}

/**
 * - `reference`: one collection, one kind of id, enough coverage → FK column.
 * - `polymorphic`: several target collections, or ObjectId and string ids mixed → discriminator.
 * - `weak`: some overlap, below `minCoverage` (dangling refs, or a coincidence) → report only.
 */
export type ReferenceVerdict = 'reference' | 'polymorphic' | 'weak';

/** One path with at least one candidate target. */
export interface ReferenceFinding {
  readonly collection: string;
  readonly path: FieldPath;
  readonly name: string;
  readonly verdict: ReferenceVerdict;
  /** Share of the path's distinct id values that land in some listed target (4 decimals). */
  readonly coverage: number;
  readonly kinds: readonly ReferenceKind[];
}

/**
 * Compare every id-valued path's sketch with every collection's `_id` sketch (self included,
 * for trees such as `parentId`; a collection's own `_id` path is never a source).
 *
 * @example
 * declare const idPaths: readonly IdPath[];
 * declare const states: ReadonlyMap<string, CollectionState>;
 * detectReferences(idPaths, states).find((r) => r.name === 'authorId')?.kinds[0]?.targets[0];
 * // { collection: 'users', overlap: 1, matched: 40, compared: 40, exact: true, targetComplete: true }
 */
export function detectReferences(
  idPaths: readonly IdPath[],
  states: ReadonlyMap<string, CollectionState>,
  options: Partial<ReferenceOptions> = {},
): ReferenceFinding[] {
  const { candidateOverlap, minCoverage } = { ...DEFAULT_REFERENCE_OPTIONS, ...options };
  const targetNames = [...states.keys()].sort();
  const findings: ReferenceFinding[] = [];
  for (const { collection, path, node } of idPaths) {
    const kinds: ReferenceKind[] = [];
    let covered = 0;
    let total = 0;
    for (const kind of ID_KINDS) {
      const sketch = node.ids.get(kind);
      if (!sketch) continue;
      total += sketch.distinct;
      const targets: ReferenceTarget[] = [];
      for (const name of targetNames) {
        const target = states.get(name)!;
        const c = sketch.containmentIn(target.ids);
        if (c.sampled === 0 || c.fraction < candidateOverlap) continue;
        targets.push({
          collection: name,
          overlap: round(c.fraction),
          matched: c.matched,
          compared: c.sampled,
          exact: c.exact,
          targetComplete: target.idsComplete,
        });
      }
      if (targets.length === 0) continue;
      targets.sort((a, b) => b.overlap - a.overlap || compareStrings(a.collection, b.collection));
      // Collections rarely share ids, so per-target overlaps add up to the covered share.
      covered +=
        sketch.distinct *
        Math.min(
          1,
          targets.reduce((sum, t) => sum + t.overlap, 0),
        );
      kinds.push({ kind, distinct: sketch.distinct, targets });
    }
    if (kinds.length === 0) continue;
    const coverage = total === 0 ? 0 : covered / total;
    const targetSet = new Set(kinds.flatMap((k) => k.targets.map((t) => t.collection)));
    const mixesStringAndObjectIds =
      kinds.some((k) => k.kind === 'string') && kinds.some((k) => k.kind !== 'string');
    const verdict: ReferenceVerdict =
      coverage < minCoverage
        ? 'weak'
        : targetSet.size > 1 || mixesStringAndObjectIds
          ? 'polymorphic'
          : 'reference';
    findings.push({ collection, path, name: formatPath(path), verdict, coverage: round(coverage), kinds });
  }
  return findings.sort((a, b) => compareStrings(a.collection, b.collection) || comparePaths(a.path, b.path));
}
