import { BSONSymbol, DBRef, type Document, Int32, Long } from 'bson';
import { Random } from './random.js';
import { ValueFactory } from './values.js';

/** The collections the generator writes; each has a mostly stable shape. */
export const NASTY_COLLECTIONS = ['users', 'orders', 'events'] as const;
export type NastyCollection = (typeof NASTY_COLLECTIONS)[number];

/**
 * Knobs for `generateNastyDocuments`. Every knob changes the stream, so a seed names a
 * stream only together with its options.
 */
export interface GenerateOptions {
  /** Which collections to emit (default all three: users, orders, events). */
  readonly collections?: readonly NastyCollection[];
  /**
   * Probability (0..1) that a document leaves its collection's shape: gains a stray field,
   * loses one, or has one replaced by a value of another type. Default 0.15. Keep it low enough
   * that a mapping can still be inferred; 0 gives perfectly regular shapes (still with nasty values).
   */
  readonly noise?: number;
  /**
   * Probability (0..1) that each value or key is an edge case rather than a typical one: NaN,
   * 2^63-1, 34-digit decimals, dates at PostgreSQL's limits, emoji and dotted keys, long
   * strings. Default 0.2.
   */
  readonly nastiness?: number;
  /**
   * Include values PostgreSQL cannot store, which the mapping must reject with a reason:
   * strings with NUL and dates before 4714 BC. Default true; turn off to test the round trip
   * on documents Ferry accepts.
   */
  readonly unloadable?: boolean;
  /** Deepest nesting of the `deep` fields; at least 8. Default 10. */
  readonly maxDepth?: number;
  /** Length in UTF-16 units of a "very long" string. Default 10 000. */
  readonly longStringLength?: number;
}

/** One generated document and the collection it belongs to. */
export interface GeneratedDocument {
  readonly collection: NastyCollection;
  readonly doc: Document;
}

/** How often each collection is picked; orders reference users, events reference both. */
const WEIGHTS: Record<NastyCollection, number> = { users: 3, orders: 4, events: 3 };
/** Ids kept for references; older ones fall out, like a working set. */
const POOL_SIZE = 256;

/**
 * A deterministic, streaming sequence of documents built to stress a mapping: mixed numeric
 * types in one field, missing vs null, empty arrays and objects, nesting 8+ levels deep, keys
 * with dots, `$`, spaces and emoji, very long strings, int64 beyond 2^53, 34-digit Decimal128
 * at extreme exponents, dates at and beyond PostgreSQL's range, arrays of sub-documents of
 * varying shapes, ObjectId references between collections, binary, regexes, timestamps, and
 * NUL in strings. The same seed and options give the same documents, and the first n
 * documents do not depend on `count`.
 *
 * @example
 * declare const plan: Plan; // a mapping of the five nasty collections
 * for (const { collection, doc } of generateNastyDocuments(seedFromEnv(7), 500, { unloadable: false })) {
 *   const rows = toRows(plan, collection, doc);
 *   if (rows.ok && !canonicalEqual(toDoc(plan, collection, rows.rows), doc)) throw new Error(`${collection} differs`);
 * }
 */
export function* generateNastyDocuments(
  seed: number,
  count: number,
  options: GenerateOptions = {},
): Generator<GeneratedDocument, void, undefined> {
  const rng = new Random(seed);
  const values = new ValueFactory(rng, {
    nastiness: options.nastiness ?? 0.2,
    unloadable: options.unloadable ?? true,
    maxDepth: Math.max(8, options.maxDepth ?? 10),
    longStringLength: options.longStringLength ?? 10_000,
  });
  const noise = options.noise ?? 0.15;
  const collections = options.collections ?? NASTY_COLLECTIONS;
  if (collections.length === 0) return;
  const weighted = collections.flatMap((c) => Array<NastyCollection>(WEIGHTS[c]).fill(c));
  const builder = new Builder(rng, values);

  for (let index = 0; index < count; index++) {
    const collection = rng.pick(weighted);
    const doc = builder.build(collection, index);
    if (rng.chance(noise)) builder.perturb(doc);
    yield { collection, doc };
  }
}

class Builder {
  private readonly userIds: unknown[] = [];
  private readonly orderIds: unknown[] = [];

  constructor(
    private readonly rng: Random,
    private readonly v: ValueFactory,
  ) {}

  build(collection: NastyCollection, index: number): Document {
    switch (collection) {
      case 'users':
        return this.user();
      case 'orders':
        return this.order();
      case 'events':
        return this.event(index);
    }
  }

  /** Break the shape a little: add, drop, or retype one field (never `_id`). */
  perturb(doc: Document): void {
    const keys = Object.keys(doc).filter((k) => k !== '_id');
    const roll = this.rng.int(0, 2);
    if (roll === 0 || keys.length === 0) {
      doc[this.v.key(`extra_${this.rng.int(0, 9)}`)] = this.v.any();
    } else if (roll === 1) {
      delete doc[this.rng.pick(keys)];
    } else {
      doc[this.rng.pick(keys)] = this.v.any(2);
    }
  }

  private remember(pool: unknown[], id: unknown): void {
    if (pool.length >= POOL_SIZE) pool.splice(this.rng.int(0, pool.length - 1), 1);
    pool.push(id);
  }

  /** An id from the pool, or (rarely) one that points nowhere: references dangle in real data. */
  private reference(pool: readonly unknown[]): unknown {
    if (pool.length === 0 || this.rng.chance(0.03)) return this.v.objectId();
    return this.rng.pick(pool);
  }

  /** Present, null, or missing: `undefined` means "leave the key out". */
  private sometimes<T>(make: () => T, nullRate = 0.1, missingRate = 0.1): T | null | undefined {
    const roll = this.rng.float();
    if (roll < missingRate) return undefined;
    if (roll < missingRate + nullRate) return null;
    return make();
  }

  private user(): Document {
    const { rng, v } = this;
    const _id = v.objectId();
    this.remember(this.userIds, _id);
    const first = rng.pick(['Ada', 'Grace', 'Łukasz', 'Zoë', '李', 'Amélie', 'Olúwaseun']);
    const doc: Document = {
      _id,
      name: v.string(() => `${first} ${rng.pick(['Lovelace', 'Hopper', 'Nowak', 'Ng'])}`),
      email: this.sometimes(() => `${first.toLowerCase()}${rng.int(1, 999)}@example.com`),
      age: this.sometimes(() => v.mixedNumber(), 0.1, 0.15),
      createdAt: v.date(),
      profile: dropUndefined({
        bio: v.string(() => rng.pick(['', 'Likes engines.', 'Writes compilers.'])),
        address: this.sometimes(() => ({
          street: v.string(() => `${rng.int(1, 200)} Main St`),
          city: rng.pick(['London', 'Zürich', 'São Paulo', 'Kraków', '東京']),
          geo: { lat: v.double(-90, 90), lng: v.double(-180, 180) },
        })),
      }),
      tags: Array.from({ length: rng.int(0, 5) }, () => v.string(() => rng.pick(['vip', 'beta', 'new']))),
      scores: Array.from({ length: rng.int(0, 4) }, () => v.mixedNumber()),
      settings: this.mapLike(),
      flags: { newsletter: rng.chance(0.5), beta: rng.chance(0.2) },
    };
    if (rng.chance(0.3)) doc.avatar = v.binary();
    if (rng.chance(0.25)) doc.deep = v.deep();
    if (rng.chance(0.1)) doc.empty = rng.pick([{}, [], [[]], [{}]]);
    return dropUndefined(doc);
  }

  /** An object used as a map: its keys are data (codes, ids, dates), values of one type. */
  private mapLike(): Document {
    const map: Document = {};
    const n = this.rng.int(0, 5);
    for (let i = 0; i < n; i++) {
      const key = this.rng.chance(0.5)
        ? this.v.key(this.rng.pick(['en', 'de', 'fr', 'pt-BR', 'zh-Hans']))
        : this.v.objectId().toHexString();
      map[key] = this.rng.chance(0.7) ? this.rng.chance(0.5) : this.v.string(() => 'on');
    }
    return map;
  }

  private order(): Document {
    const { rng, v } = this;
    const _id = v.objectId();
    this.remember(this.orderIds, _id);
    const items = Array.from({ length: rng.pick([0, 1, 2, 3, 5, 12]) }, () => this.orderItem());
    const doc: Document = {
      _id,
      userId: this.sometimes(() => this.reference(this.userIds), 0.05, 0.02),
      items,
      total: v.decimal(),
      currency: rng.pick(['EUR', 'USD', 'JPY', 'CHF']),
      status: rng.pick(['new', 'paid', 'shipped', 'cancelled']),
      placedAt: v.date(),
      shippedAt: this.sometimes(() => v.date(), 0.3, 0.2),
      counters: { views: v.long(), retries: v.int32(0, 5) },
      note: this.sometimes(() => v.string(() => rng.pick(['leave at door', 'gift', ''])), 0.2, 0.5),
    };
    // Some applications stored the customer as a string key instead of an ObjectId.
    if (rng.chance(0.03)) doc.userId = `legacy-${rng.int(1, 5000)}`;
    return dropUndefined(doc);
  }

  /** Sub-documents whose shape varies: optional keys, and the odd nested array. */
  private orderItem(): Document {
    const { rng, v } = this;
    const item: Document = {
      sku: v.string(() => `SKU-${rng.int(1000, 9999)}`),
      qty: rng.chance(0.9) ? v.int32(1, 10) : v.mixedNumber(),
      price: v.decimal(),
    };
    if (rng.chance(0.3)) item.discount = v.double(0, 0.5);
    if (rng.chance(0.2))
      item.options = { color: rng.pick(['red', 'blue']), size: rng.pick(['S', 'M', 'XL']) };
    if (rng.chance(0.1)) item.bundle = [{ sku: `SKU-${rng.int(1000, 9999)}`, qty: new Int32(1) }];
    if (rng.chance(0.05)) item[v.key('gift.wrap')] = true;
    return item;
  }

  private event(index: number): Document {
    const { rng, v } = this;
    const doc: Document = {
      // Ids that are not ObjectIds keep their natural type (DESIGN.md invariant 5).
      _id: rng.chance(0.9) ? `evt_${index.toString(36)}` : Long.fromNumber(index),
      ts: v.timestamp(),
      at: v.date(),
      kind: rng.pick(['click', 'view', 'purchase', 'refund']),
      orderId: this.sometimes(() => this.reference(this.orderIds), 0.05, 0.2),
      refs: Array.from({ length: rng.int(0, 3) }, () =>
        this.reference(rng.chance(0.5) ? this.userIds : this.orderIds),
      ),
      match: v.regex(),
      seq: v.long(),
      payload: v.any(4),
    };
    if (rng.chance(0.2)) doc.raw = v.binary();
    if (rng.chance(0.1)) doc.deep = v.deep();
    if (rng.chance(0.03))
      doc.legacy = rng.chance(0.5) ? new BSONSymbol('sym') : new DBRef('users', v.objectId());
    return dropUndefined(doc);
  }
}

/** `sometimes` returns undefined for "missing"; take those keys out so missing stays missing. */
function dropUndefined(doc: Document): Document {
  for (const key of Object.keys(doc)) if (doc[key] === undefined) delete doc[key];
  return doc;
}
