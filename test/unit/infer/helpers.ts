import type { CollectionSnapshot, FieldSnapshot, InferenceSnapshot } from '../../../src/infer/index.js';

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
