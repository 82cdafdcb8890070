import type { CollectionPlan, TablePlan } from '../mapping/model.js';
import type { DocumentRows, RowValues } from '../mapping/row-values.js';

/**
 * When `toDoc` refuses a document's rows (MAPPING_ROWS_INVALID), name the field that broke:
 * the array whose child rows do not run 0..n-1 (a deleted middle element, a duplicated or
 * shifted `idx`). Verification reports that as a content difference at this path instead of
 * stopping, because a damaged table is exactly what it is there to find.
 *
 * The path interleaves each ancestor table's field path with the row's ordinals, so a gap in
 * the marks of the third item reads `items.2.marks`. Returns `''` when no array is at fault.
 *
 * @example
 * declare const ordersPlan: CollectionPlan;
 * declare const rowsWithIdx0And2: DocumentRows; // orders_items rows with idx 0 and 2, no 1
 * damagedPath(ordersPlan, rowsWithIdx0And2)   // 'items'
 */
export function damagedPath(collection: CollectionPlan, rows: DocumentRows): string {
  for (const table of collection.tables) {
    const parent = table.parent;
    if (parent === undefined || parent.shape !== 'array') continue;
    const groups = new Map<string, RowValues[]>();
    for (const row of rows.get(table.name) ?? []) {
      const key = parent.columns.map((c) => String(row[c])).join('\u0000');
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [row]);
      else list.push(row);
    }
    for (const group of groups.values()) {
      const seen = new Set(group.map((r) => Number(r[parent.ordinal])));
      const contiguous = seen.size === group.length && group.every((_, i) => seen.has(i));
      if (!contiguous) return fieldPath(collection, table, group[0]!);
    }
  }
  return '';
}

function fieldPath(collection: CollectionPlan, table: TablePlan, row: RowValues): string {
  // Ancestors from the root's child down to this table.
  const chain: TablePlan[] = [];
  for (let t: TablePlan | undefined = table; t?.parent !== undefined; ) {
    chain.unshift(t);
    const parentName: string = t.parent.table;
    t = collection.tables.find((x) => x.name === parentName);
  }
  // The row's parent columns after the root id are the ordinals of its ancestors, in order.
  const ordinals = table.parent!.columns.slice(1).map((c) => String(row[c]));
  const parts: string[] = [];
  chain.forEach((t, i) => {
    parts.push(...t.parent!.path);
    if (i < chain.length - 1) parts.push(ordinals[i] ?? '?');
  });
  return parts.join('.');
}
