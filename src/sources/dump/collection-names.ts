/**
 * The names a multi-database source gives its collections. `CollectionInfo.name` is the
 * bare collection name, which is what users and the target see; only when two databases in
 * one source hold a collection of the same name do those become `db.collection`, so that
 * `read(name)` and `SourceBatch.collection` stay unambiguous.
 *
 * @example
 * collectionNames([{ database: 'a', collection: 'users' }, { database: 'b', collection: 'users' },
 *   { database: 'a', collection: 'orders' }]); // ['a.users', 'b.users', 'orders']
 */
export function collectionNames(
  items: readonly { readonly database: string; readonly collection: string }[],
): string[] {
  const seen = new Map<string, number>();
  for (const item of items) seen.set(item.collection, (seen.get(item.collection) ?? 0) + 1);
  return items.map((item) =>
    (seen.get(item.collection) ?? 0) > 1 ? `${item.database}.${item.collection}` : item.collection,
  );
}

/** MongoDB's own collections (`system.profile`, `system.views`, `system.buckets.*`, …), which are not application data. */
export function isSystemCollection(name: string): boolean {
  return name.startsWith('system.');
}
