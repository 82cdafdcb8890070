import type { BsonTypeName } from './bson-type.js';
import { HashSketch } from './hash-sketch.js';
import { KEY_SHAPES, type KeyShape } from './key-shape.js';
import { BinaryStats, DateStats, NumberStats, StringStats } from './value-stats.js';

/** Why an object path was collapsed into `*` while collecting. */
export type CollapseReason = 'keyCapExceeded' | 'pathBudgetExceeded';

/** Kinds of id values sketched for reference detection. */
export type IdKind = 'objectId' | 'string' | 'objectIdHex';

/** Id kinds in snapshot order. */
export const ID_KINDS: readonly IdKind[] = ['objectId', 'objectIdHex', 'string'];

/** Objects seen at a path: how many keys, which shapes, and whether it was collapsed. */
export class ObjectStats {
  count = 0;
  /** Objects with at least one key (pinned keys such as the root's `_id` excluded). */
  nonEmpty = 0;
  minKeys = Number.POSITIVE_INFINITY;
  maxKeys = 0;
  /** Sum of key counts, so mean keys per object = totalKeys / count. */
  totalKeys = 0;
  /** Distinct keys, by hash; capacity is the key cap, so overflow = sampling started. */
  readonly keys: HashSketch;
  /** Shapes of distinct keys admitted to `keys` (a uniform sample once it samples). */
  readonly shapes: Record<KeyShape, number> = Object.fromEntries(KEY_SHAPES.map((s) => [s, 0])) as Record<
    KeyShape,
    number
  >;
  /**
   * Example keys for the report: the ones with the smallest hashes, so the choice does not
   * depend on document order (and is a uniform sample of the distinct keys).
   */
  readonly examples: { readonly key: string; readonly hash: number }[] = [];
  collapsed: CollapseReason | undefined;
  readonly #shapeOf = new Map<number, KeyShape>();

  constructor(maxKeys: number) {
    this.keys = new HashSketch(maxKeys);
  }

  merge(other: ObjectStats, exampleKeys: number): void {
    this.count += other.count;
    this.nonEmpty += other.nonEmpty;
    this.minKeys = Math.min(this.minKeys, other.minKeys);
    this.maxKeys = Math.max(this.maxKeys, other.maxKeys);
    this.totalKeys += other.totalKeys;
    // Key by key, so a field shared by the merged objects is tallied once, not once per map entry.
    for (const [hash, shape] of other.#shapeOf) this.admitKey(hash, shape);
    for (const example of other.examples) this.offerExample(example.key, example.hash, exampleKeys);
    this.collapsed ??= other.collapsed;
  }

  /**
   * Count a key (by hash) towards the distinct keys; tally its shape if it is new. Returns
   * whether it was new. Shapes are remembered per stored hash (≤ the key cap) for merging.
   */
  admitKey(hash: number, shape: KeyShape): boolean {
    const level = this.keys.level;
    if (this.keys.add(hash) !== 'added') return false;
    this.shapes[shape]++;
    this.#shapeOf.set(hash, shape);
    if (this.keys.level !== level) {
      for (const stored of this.#shapeOf.keys()) if (!this.keys.has(stored)) this.#shapeOf.delete(stored);
    }
    return true;
  }

  /** Keep `key` if its hash is among the `limit` smallest seen. */
  offerExample(key: string, hash: number, limit: number): void {
    const examples = this.examples;
    if (examples.some((e) => e.key === key)) return;
    if (examples.length >= limit && hash >= examples[examples.length - 1]!.hash) return;
    examples.push({ key, hash });
    examples.sort((a, b) => a.hash - b.hash);
    if (examples.length > limit) examples.pop();
  }
}

/** Arrays seen at a path: lengths. Element statistics live on the `[]` child. */
export class ArrayStats {
  count = 0;
  nonEmpty = 0;
  minLength = Number.POSITIVE_INFINITY;
  maxLength = 0;
  totalLength = 0;

  observe(length: number): void {
    this.count++;
    if (length > 0) this.nonEmpty++;
    if (length < this.minLength) this.minLength = length;
    if (length > this.maxLength) this.maxLength = length;
    this.totalLength += length;
  }

  merge(other: ArrayStats): void {
    this.count += other.count;
    this.nonEmpty += other.nonEmpty;
    this.minLength = Math.min(this.minLength, other.minLength);
    this.maxLength = Math.max(this.maxLength, other.maxLength);
    this.totalLength += other.totalLength;
  }
}

/**
 * Everything known about one path of one collection. Mutable while collecting; snapshots
 * copy out of it. Presence needs no counter of its own: a named field occurs at most once
 * per parent object, so `occurrences` is its presence; for `[]`/`*` children presence is the
 * parent's count of non-empty arrays/objects.
 */
export class FieldNode {
  /** Values seen here, null included. */
  occurrences = 0;
  readonly types = new Map<BsonTypeName, number>();
  strings: StringStats | undefined;
  numbers: NumberStats | undefined;
  dates: DateStats | undefined;
  binary: BinaryStats | undefined;
  objects: ObjectStats | undefined;
  arrays: ArrayStats | undefined;
  /** Value sketches for reference detection, per id kind. */
  readonly ids = new Map<IdKind, HashSketch>();
  /** Children by key segment (see field-path.ts). */
  readonly fields = new Map<string, FieldNode>();
  element: FieldNode | undefined;
  anyKey: FieldNode | undefined;

  count(type: BsonTypeName): void {
    this.occurrences++;
    this.types.set(type, (this.types.get(type) ?? 0) + 1);
  }

  idSketch(kind: IdKind, capacity: number): HashSketch {
    let sketch = this.ids.get(kind);
    if (!sketch) {
      sketch = new HashSketch(capacity);
      this.ids.set(kind, sketch);
    }
    return sketch;
  }
}

/** Sizes of sketches created during a merge, taken from the source so caps carry over. */
export interface MergeOptions {
  readonly exampleKeys: number;
}

/**
 * Fold `from` (and its subtree) into `into`. `from` is only read, and `into` never shares a
 * node with it, so a snapshot can merge a live tree into a scratch node safely.
 *
 * @example
 * declare const node: FieldNode;
 * const any = new FieldNode();
 * for (const child of node.fields.values()) mergeNode(any, child, { exampleKeys: 5 });
 */
export function mergeNode(into: FieldNode, from: FieldNode, options: MergeOptions): void {
  into.occurrences += from.occurrences;
  for (const [type, n] of from.types) into.types.set(type, (into.types.get(type) ?? 0) + n);
  if (from.strings) {
    into.strings ??= new StringStats();
    into.strings.merge(from.strings);
  }
  if (from.numbers) {
    into.numbers ??= new NumberStats();
    into.numbers.merge(from.numbers);
  }
  if (from.dates) {
    into.dates ??= new DateStats();
    into.dates.merge(from.dates);
  }
  if (from.binary) {
    into.binary ??= new BinaryStats();
    into.binary.merge(from.binary);
  }
  if (from.arrays) {
    into.arrays ??= new ArrayStats();
    into.arrays.merge(from.arrays);
  }
  if (from.objects) {
    into.objects ??= new ObjectStats(from.objects.keys.capacity);
    into.objects.merge(from.objects, options.exampleKeys);
  }
  for (const [kind, sketch] of from.ids) into.idSketch(kind, sketch.capacity).merge(sketch);
  for (const [key, child] of from.fields) {
    let target = into.fields.get(key);
    if (!target) {
      target = new FieldNode();
      into.fields.set(key, target);
    }
    mergeNode(target, child, options);
  }
  if (from.element) {
    into.element ??= new FieldNode();
    mergeNode(into.element, from.element, options);
  }
  if (from.anyKey) {
    into.anyKey ??= new FieldNode();
    mergeNode(into.anyKey, from.anyKey, options);
  }
}

/**
 * Merge every named child of `node` except `pinned` into one `*` child: the value-level view
 * of a map. Returns the scratch node (the live tree is not changed).
 *
 * @example
 * declare const pricesNode: FieldNode;
 * const values = mergedMapValues(pricesNode, new Set(), { exampleKeys: 5 });
 */
export function mergedMapValues(
  node: FieldNode,
  pinned: ReadonlySet<string>,
  options: MergeOptions,
): FieldNode {
  const any = new FieldNode();
  if (node.anyKey) mergeNode(any, node.anyKey, options);
  for (const [key, child] of node.fields) if (!pinned.has(key)) mergeNode(any, child, options);
  return any;
}

/**
 * Nodes in a subtree, the node itself included; used to keep the per-collection path budget.
 *
 * @example
 * countNodes(new FieldNode()); // 1
 */
export function countNodes(node: FieldNode): number {
  let n = 1;
  for (const child of node.fields.values()) n += countNodes(child);
  if (node.element) n += countNodes(node.element);
  if (node.anyKey) n += countNodes(node.anyKey);
  return n;
}
