import type { Db } from 'mongodb';

/**
 * Which entities the outbox has seen MongoDB hold, per database and collection, so that on
 * FerretDB delivery tries an insert first only for entities it has not seen there (deliver.ts,
 * `insertNew`). A hint for speed and never for correctness: an entity wrongly thought present
 * is replaced with upsert, which inserts it; one wrongly thought absent fails the insert with a
 * duplicate key and is replaced. It pays because FerretDB v1.24 refuses a taken `_id` at some
 * 0.7 ms a document, half again the cost of the replacement that follows, and an entity the
 * app updates is delivered again and again.
 *
 * @example
 * import type { Db } from 'mongodb';
 * declare const db: Db;
 * const known = knownInMongo(db, 'users');
 * known.add('64f0c0ffee');
 * known.has('64f0c0ffee'); // true
 */
export function knownInMongo(db: Db, collection: string): KnownEntities {
  let byCollection = knownByDb.get(db);
  if (byCollection === undefined) {
    byCollection = new Map();
    knownByDb.set(db, byCollection);
  }
  let known = byCollection.get(collection);
  if (known === undefined) {
    known = new KnownEntities(KNOWN_LIMIT);
    byCollection.set(collection, known);
  }
  return known;
}

const knownByDb = new WeakMap<Db, Map<string, KnownEntities>>();

/**
 * Entities remembered per collection. An append-only collection would grow the memory without
 * end: at the limit it starts afresh, which costs one failed insert per entity updated again.
 */
const KNOWN_LIMIT = 100_000;

/**
 * A bounded set of entity keys (`doc_key` texts).
 *
 * @example
 * const known = new KnownEntities(2);
 * known.add('a');
 * known.forget('a');
 * known.has('a'); // false
 */
export class KnownEntities {
  readonly #keys = new Set<string>();

  constructor(private readonly limit: number) {}

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  add(key: string): void {
    if (this.#keys.size >= this.limit) this.#keys.clear();
    this.#keys.add(key);
  }

  forget(key: string): void {
    this.#keys.delete(key);
  }
}
