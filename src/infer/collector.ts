import type { Binary, Decimal128, Document, Long, ObjectId } from 'bson';
import { bsonTypeOf } from './bson-type.js';
import { CollectionState, NOTHING_PINNED, ROOT_PINNED } from './collection-state.js';
import {
  ArrayStats,
  type CollapseReason,
  countNodes,
  FieldNode,
  mergedMapValues,
  ObjectStats,
} from './field-node.js';
import { keySegment } from './field-path.js';
import { hash53 } from './hash-sketch.js';
import { idHash, objectIdHash, stringIdHash } from './id-hash.js';
import { keyShape } from './key-shape.js';
import { DEFAULT_LIMITS, type InferLimits } from './limits.js';
import { buildSnapshot, type InferenceSnapshot, type SnapshotOptions } from './snapshot.js';
import { BinaryStats, DateStats, NumberStats, OBJECT_ID_HEX, StringStats } from './value-stats.js';

/** Options for a collector. */
export interface InferenceStatsOptions {
  /** Override any of the memory caps (see limits.ts). */
  readonly limits?: Partial<InferLimits>;
}

// A separate seed keeps key hashes independent of id hashes.
const KEY_SEED = 0x6b6579;
// Between documents, collapse the widest objects once the tree passes 90% of the path budget
// and stop at 75%, so the in-document fallback (collapse the parent being written) is rare:
// the widest object is the likeliest map, while the parent at hand is often an innocent struct.
const REBALANCE_AT = 0.9;
const REBALANCE_TO = 0.75;

/**
 * Field statistics for many collections, fed one document at a time. Memory is bounded by
 * `limits`, not by the number of documents (see limits.ts and hash-sketch.ts).
 *
 * @example
 * import type { Document } from 'bson';
 * declare const docs: Document[];
 * const stats = new InferenceStats();
 * for (const doc of docs) stats.add('orders', doc);
 * const snapshot = stats.snapshot(); // JSON-serialisable, deterministic
 */
export class InferenceStats {
  readonly limits: InferLimits;
  readonly #collections = new Map<string, CollectionState>();

  constructor(options: InferenceStatsOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  /**
   * Observe one document of `collection` (numbers as bson wrappers, see src/sources/types.ts).
   * `idNoted`: its `_id` was already passed to `noteId` (a random sample notes every id).
   *
   * @example
   * import { Int32, ObjectId } from 'bson';
   * const stats = new InferenceStats();
   * stats.add('users', { _id: new ObjectId(), age: new Int32(41) });
   */
  add(collection: string, doc: Document, options?: { readonly idNoted?: boolean }): void {
    const state = this.#state(collection);
    state.documents++;
    if (!options?.idNoted) this.noteId(collection, doc._id);
    this.#observe(state, state.root, doc, ROOT_PINNED);
    if (state.paths > this.limits.maxPathsPerCollection * REBALANCE_AT) this.#rebalance(state);
  }

  /** Make a collection known even if it has no documents (it can still be a reference target). */
  addCollection(collection: string): void {
    this.#state(collection);
  }

  /**
   * Record an `_id` for reference matching without collecting field statistics for its
   * document: a random sample reads every document anyway, so every id can still count.
   *
   * @example
   * import type { Document } from 'bson';
   * declare const doc: Document;
   * const stats = new InferenceStats();
   * stats.noteId('users', doc._id);
   */
  noteId(collection: string, id: unknown): void {
    const hash = idHash(id);
    if (hash !== undefined) this.noteIdHash(collection, hash);
  }

  /** `noteId` for an `_id` already hashed by `idHash` (or `rawIdHash`, from its bytes). */
  noteIdHash(collection: string, hash: number): void {
    this.#state(collection).ids.add(hash);
  }

  /** Count documents the source could not read (they still belong to the collection). */
  addRejects(collection: string, count: number): void {
    this.#state(collection).rejects += count;
  }

  /**
   * Declare that `collection` was only partly read. `idsComplete: false` also marks its `_id`
   * sketch as partial, so reference overlaps into it are flagged as understated.
   *
   * @example
   * const stats = new InferenceStats();
   * stats.markPartial('orders', { idsComplete: false });
   */
  markPartial(collection: string, options: { readonly idsComplete: boolean }): void {
    const state = this.#state(collection);
    state.complete = false;
    if (!options.idsComplete) state.idsComplete = false;
  }

  /** Collection names seen so far, sorted. */
  collections(): string[] {
    return [...this.#collections.keys()].sort();
  }

  /** A deterministic, JSON-serialisable copy of everything collected so far. */
  snapshot(options: SnapshotOptions = {}): InferenceSnapshot {
    return buildSnapshot(this.#collections, this.limits, options);
  }

  #state(collection: string): CollectionState {
    let state = this.#collections.get(collection);
    if (!state) {
      state = new CollectionState(collection, this.limits.idSketchCapacity);
      this.#collections.set(collection, state);
    }
    return state;
  }

  #observe(state: CollectionState, node: FieldNode, value: unknown, pinned: ReadonlySet<string>): void {
    const type = bsonTypeOf(value);
    node.count(type);
    const sketchIds = node !== state.root.fields.get('_id');
    switch (type) {
      case 'string':
        this.#observeString(node, value as string, sketchIds);
        return;
      case 'int':
        node.numbers ??= new NumberStats();
        node.numbers.observe(String(numberOf(value)), 'integer');
        return;
      case 'long':
        node.numbers ??= new NumberStats();
        node.numbers.observe(String(value as Long | bigint), 'integer');
        return;
      case 'double':
        node.numbers ??= new NumberStats();
        node.numbers.observe(String(numberOf(value)), 'double');
        return;
      case 'decimal':
        node.numbers ??= new NumberStats();
        node.numbers.observe((value as Decimal128).toString(), 'decimal');
        return;
      case 'date':
        node.dates ??= new DateStats();
        node.dates.observe(value as Date);
        return;
      case 'objectId':
        if (sketchIds) this.#sketch(node, 'objectId', objectIdHash((value as ObjectId).toHexString()));
        return;
      case 'dbRef': {
        // A DBRef names its target; its id still goes through overlap so the report can
        // confirm the name and catch dangling refs.
        const oid = (value as { oid?: unknown }).oid;
        const hash = idHash(oid);
        if (hash !== undefined) this.#sketch(node, typeof oid === 'string' ? 'string' : 'objectId', hash);
        return;
      }
      case 'binData':
        this.#observeBinary(node, value as Binary | Uint8Array);
        return;
      case 'array':
        this.#observeArray(state, node, value as readonly unknown[]);
        return;
      case 'object':
        this.#observeObject(state, node, value as Record<string, unknown>, pinned);
        return;
      default:
        // Types without statistics beyond their count (bool, null, timestamp, regex, …).
        return;
    }
  }

  #observeString(node: FieldNode, value: string, sketchIds: boolean): void {
    node.strings ??= new StringStats();
    node.strings.observe(value);
    if (!sketchIds || value.length === 0 || value.length > this.limits.maxIdStringLength) return;
    if (value.length === 24 && OBJECT_ID_HEX.test(value))
      this.#sketch(node, 'objectIdHex', objectIdHash(value));
    else this.#sketch(node, 'string', stringIdHash(value));
  }

  #sketch(node: FieldNode, kind: 'objectId' | 'objectIdHex' | 'string', hash: number): void {
    node.idSketch(kind, this.limits.valueSketchCapacity).add(hash);
  }

  #observeBinary(node: FieldNode, value: Binary | Uint8Array): void {
    node.binary ??= new BinaryStats();
    const stats = node.binary;
    if (value instanceof Uint8Array) stats.observe(0, value.length);
    else stats.observe(value.sub_type, value.length());
  }

  #observeArray(state: CollectionState, node: FieldNode, value: readonly unknown[]): void {
    node.arrays ??= new ArrayStats();
    node.arrays.observe(value.length);
    if (value.length === 0) return;
    if (!node.element) {
      node.element = new FieldNode();
      state.paths++;
    }
    for (const item of value) this.#observe(state, node.element, item, NOTHING_PINNED);
  }

  #observeObject(
    state: CollectionState,
    node: FieldNode,
    value: Record<string, unknown>,
    pinned: ReadonlySet<string>,
  ): void {
    node.objects ??= new ObjectStats(this.limits.maxKeysPerObject);
    const stats = node.objects;
    const keys = Object.keys(value);
    let counted = 0;
    for (const key of keys) {
      if (pinned.has(key)) continue;
      counted++;
      const hash = hash53(key, KEY_SEED);
      // Shape only for keys not yet stored: the regexes run once per distinct key.
      if (stats.keys.has(hash) || hash >= stats.keys.limit) continue;
      stats.admitKey(hash, keyShape(key));
      stats.offerExample(key, hash, this.limits.exampleKeys);
    }
    stats.count++;
    stats.totalKeys += counted;
    if (counted > 0) stats.nonEmpty++;
    if (counted < stats.minKeys) stats.minKeys = counted;
    if (counted > stats.maxKeys) stats.maxKeys = counted;
    if (!stats.collapsed && !stats.keys.exact) this.#collapse(state, node, 'keyCapExceeded', pinned);

    for (const key of keys) {
      const child = pinned.has(key) || !stats.collapsed ? this.#field(state, node, key, pinned) : undefined;
      this.#observe(state, child ?? this.#anyKey(state, node), value[key], NOTHING_PINNED);
    }
  }

  /** The named child, created within the path budget; undefined once the node collapsed. */
  #field(
    state: CollectionState,
    node: FieldNode,
    key: string,
    pinned: ReadonlySet<string>,
  ): FieldNode | undefined {
    const segment = keySegment(key);
    const existing = node.fields.get(segment);
    if (existing) return existing;
    if (state.paths >= this.limits.maxPathsPerCollection && !pinned.has(key)) {
      this.#collapse(state, node, 'pathBudgetExceeded', pinned);
      return undefined;
    }
    const child = new FieldNode();
    node.fields.set(segment, child);
    state.paths++;
    return child;
  }

  #anyKey(state: CollectionState, node: FieldNode): FieldNode {
    if (!node.anyKey) {
      node.anyKey = new FieldNode();
      state.paths++;
    }
    return node.anyKey;
  }

  #rebalance(state: CollectionState): void {
    while (state.paths > this.limits.maxPathsPerCollection * REBALANCE_TO) {
      const widest = widestObject(state.root);
      if (!widest) return;
      this.#collapse(state, widest, 'pathBudgetExceeded', NOTHING_PINNED);
    }
  }

  /**
   * Turn an object path into a map path: merge every named child into `*` and send later
   * keys there. Done once per path; the tree only shrinks, so the budget holds.
   */
  #collapse(
    state: CollectionState,
    node: FieldNode,
    reason: CollapseReason,
    pinned: ReadonlySet<string>,
  ): void {
    node.objects!.collapsed = reason;
    let before = node.anyKey ? countNodes(node.anyKey) : 0;
    for (const [key, child] of node.fields) if (!pinned.has(key)) before += countNodes(child);
    const merged = mergedMapValues(node, pinned, { exampleKeys: this.limits.exampleKeys });
    for (const key of [...node.fields.keys()]) if (!pinned.has(key)) node.fields.delete(key);
    node.anyKey = merged;
    state.paths += countNodes(merged) - before;
  }
}

/** The uncollapsed object below `root` with the most named children (at least 2), if any. */
function widestObject(root: FieldNode): FieldNode | undefined {
  let best: FieldNode | undefined;
  const visit = (node: FieldNode, isRoot: boolean): void => {
    if (!isRoot && node.objects && !node.objects.collapsed && node.fields.size >= 2) {
      if (!best || node.fields.size > best.fields.size) best = node;
    }
    for (const child of node.fields.values()) visit(child, false);
    if (node.element) visit(node.element, false);
    if (node.anyKey) visit(node.anyKey, false);
  };
  visit(root, true);
  return best;
}

function numberOf(value: unknown): number {
  return typeof value === 'number' ? value : (value as { value: number }).value;
}
