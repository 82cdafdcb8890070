import type { Document } from 'bson';
import {
  type CollectionSnapshot,
  type FieldSnapshot,
  type InferenceSnapshot,
  InferenceStats,
} from '../../../src/infer/index.js';

/** The inference statistics of documents given per collection, as `ferry infer` would collect them. */
export function snapshotOf(collections: Record<string, readonly Document[]>): InferenceSnapshot {
  const stats = new InferenceStats();
  for (const [name, docs] of Object.entries(collections)) {
    stats.addCollection(name);
    for (const doc of docs) stats.add(name, doc);
  }
  return stats.snapshot();
}

/** The snapshot of one collection, failing loudly when it is missing. */
export function collectionOf(snapshot: InferenceSnapshot, name: string): CollectionSnapshot {
  const found = snapshot.collections.find((c) => c.name === name);
  if (!found) throw new Error(`no collection ${name} in snapshot`);
  return found;
}

/** The statistics of one path (dotted name), failing loudly when it is missing. */
export function fieldOf(snapshot: InferenceSnapshot, collection: string, name: string): FieldSnapshot {
  const c = collectionOf(snapshot, collection);
  const found = c.fields.find((f) => f.name === name);
  if (!found)
    throw new Error(`no path ${name} in ${collection}; have ${c.fields.map((f) => f.name).join(', ')}`);
  return found;
}
