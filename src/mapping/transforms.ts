import { FerryError } from '../core/errors.js';

/**
 * A per-field transform: a pair of functions the user writes in code, named in the plan.
 * Both directions are required: `toRows` uses `toColumn`, `toDoc` uses `fromColumn`, and a
 * transform with no inverse would break invariant 1 (the mapping is a bijection).
 *
 * Both functions work on BSON values (`Int32`, `Long`, `Decimal128`, strings, …), never on
 * PostgreSQL text: `toColumn` returns a value of the column's `sourceType`, and the usual
 * column encoding does the rest. They are never called with `null` or a missing value,
 * because those never reach a column. `toRows` checks `fromColumn(toColumn(v))` against `v`
 * for every value and rejects the document when they differ, so a lossy transform cannot
 * silently alter data.
 *
 * @example
 * const cents: Transform = { toColumn: (v) => Math.round(Number(v) * 100), fromColumn: (v) => Number(v) / 100 };
 */
export interface Transform {
  readonly toColumn: (value: unknown) => unknown;
  readonly fromColumn: (value: unknown) => unknown;
}

/**
 * Transforms by name: immutable once built.
 *
 * @example
 * declare const cents: Transform;
 * declare const plan: Plan;
 * declare const rows: DocumentRows;
 * const transforms: TransformRegistry = defineTransforms({ cents });
 * toDoc(plan, 'orders', rows, { transforms });
 */
export type TransformRegistry = ReadonlyMap<string, Transform>;

/** No transforms: the default for plans that name none. */
export const noTransforms: TransformRegistry = new Map();

/**
 * Build a registry. Refuses an entry without both functions, because plans are data and may
 * be written before the code is, so this is the place to catch a one-way transform.
 *
 * @example
 * import { Decimal128, Long } from 'bson';
 * import type { Document } from 'bson';
 * declare const doc: Document;
 * declare const plan: Plan;
 * declare function formatCents(cents: Long): string; // 1250 → '12.50'
 * const transforms = defineTransforms({
 *   cents: {
 *     toColumn: (v) => Long.fromString((v as Decimal128).toString().replace('.', '')),
 *     fromColumn: (v) => Decimal128.fromString(formatCents(v as Long)),
 *   },
 * });
 * toRows(plan, 'orders', doc, { transforms });
 */
export function defineTransforms(
  definitions: Readonly<Record<string, Partial<Transform>>>,
): TransformRegistry {
  const entries = Object.entries(definitions).map(([name, t]): [string, Transform] => {
    if (typeof t.toColumn !== 'function' || typeof t.fromColumn !== 'function') {
      const missing = typeof t.toColumn !== 'function' ? 'toColumn' : 'fromColumn';
      throw new FerryError(`transform "${name}" has no ${missing} function`, {
        code: 'MAPPING_TRANSFORM_ONE_WAY',
        category: 'usage',
        hint: 'a transform needs both toColumn and fromColumn so toDoc can undo it (invariant 1)',
      });
    }
    return [name, Object.freeze({ toColumn: t.toColumn, fromColumn: t.fromColumn })];
  });
  return new ReadonlyRegistry(entries);
}

/** Registries done being built; `set` is refused on them. */
const sealed = new WeakSet<object>();

/** A Map whose mutators throw once built, so a registry handed to the mapping cannot change under it. */
class ReadonlyRegistry extends Map<string, Transform> {
  constructor(entries: readonly (readonly [string, Transform])[]) {
    // Map's constructor calls `set`, before any class field could exist: hence the WeakSet.
    super(entries);
    sealed.add(this);
  }
  override set(key: string, value: Transform): this {
    if (sealed.has(this)) throw new TypeError('a TransformRegistry is immutable; build a new one');
    return super.set(key, value);
  }
  override delete(): boolean {
    throw new TypeError('a TransformRegistry is immutable; build a new one');
  }
  override clear(): void {
    throw new TypeError('a TransformRegistry is immutable; build a new one');
  }
}
