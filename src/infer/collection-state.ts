import { FieldNode } from './field-node.js';
import { HashSketch } from './hash-sketch.js';

/**
 * What the collector keeps for one collection: the path tree, the `_id` sketch that other
 * collections' references are matched against, and the counts that qualify them.
 */
export class CollectionState {
  readonly name: string;
  documents = 0;
  rejects = 0;
  /** False when only part of the collection was read (`--sample` taking the first N). */
  complete = true;
  /** False when `ids` does not hold every `_id` (the first-N sample); overlaps then understate. */
  idsComplete = true;
  /** The document itself: its named fields are the top-level paths. */
  readonly root = new FieldNode();
  /** Hashes of `_id` values (ObjectId and string ids), tagged by kind. */
  readonly ids: HashSketch;
  /** Nodes in `root`'s tree, kept against the path budget. */
  paths = 1;

  constructor(name: string, idSketchCapacity: number) {
    this.name = name;
    this.ids = new HashSketch(idSketchCapacity);
  }
}

/** The root keys that never merge into a map wildcard: `_id` is the primary key. */
export const ROOT_PINNED: ReadonlySet<string> = new Set(['_id']);
/** Non-root objects pin nothing. */
export const NOTHING_PINNED: ReadonlySet<string> = new Set();
