import type { CollectionPlan, ColumnPlan, TablePlan } from '../mapping/model.js';

/**
 * Where a MongoDB field path (`address.city`, as an index key names it) lands in a
 * collection's tables. Only a root column is indexable as MongoDB meant it; everything else
 * is named so the caller can warn instead of dropping the index silently.
 */
export type FieldLocation =
  | { readonly kind: 'column'; readonly column: ColumnPlan }
  | { readonly kind: 'child'; readonly table: string }
  | { readonly kind: 'discriminator'; readonly columns: readonly string[] }
  | { readonly kind: 'inside-column'; readonly column: ColumnPlan }
  | { readonly kind: 'extra' };

/**
 * Resolve a dotted field path against the root table of `collection`.
 *
 * @example
 * declare const orders: CollectionPlan;
 * resolveField(orders, 'address.city')   // { kind: 'column', column: { name: 'address_city', … } }
 * resolveField(orders, 'items.sku')      // { kind: 'child', table: 'orders_items' }
 */
export function resolveField(collection: CollectionPlan, field: string): FieldLocation {
  const root = collection.tables[0] as TablePlan;
  const path = field.split('.');
  const exact = root.columns.find((c) => samePath(c.path, path));
  if (exact) return { kind: 'column', column: exact };
  const child = collection.tables.find((t) => t.parent?.table === root.name && isPrefix(t.parent.path, path));
  if (child) return { kind: 'child', table: child.name };
  const discriminator = (root.discriminators ?? []).find((d) => isPrefix(d.path, path));
  if (discriminator) {
    const { kind, id, ref } = discriminator.columns;
    return { kind: 'discriminator', columns: [kind, id, ref] };
  }
  const container = root.columns.find((c) => c.path.length > 0 && isPrefix(c.path, path));
  if (container) return { kind: 'inside-column', column: container };
  return { kind: 'extra' };
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => key === path[i]);
}
