/**
 * What to tell a user whose source is a live MongoDB that kept changing after the load. A
 * resumed backfill trusts its checkpoints (a complete collection is "up-to-date"), so inserts,
 * updates and deletes made since are not picked up; `ferry verify` finds them. `ferry sync`
 * is the tool that will repair them; until it exists the narrowest remedy is reloading only
 * the collections concerned.
 *
 * @example
 * liveSourceHint(['orders'])
 * // ['note: the source is a live MongoDB. …', …, '  to reload only these collections now: ferry backfill --only orders --force --yes']
 */
export function liveSourceHint(collections: readonly string[]): string[] {
  if (collections.length === 0) return [];
  return [
    'note: the source is a live MongoDB. Documents inserted, updated or deleted there after they were loaded are not',
    '  reloaded by a resumed backfill: its checkpoints say these collections are complete. `ferry verify` finds them.',
    '  `ferry sync` (not available yet) will repair them in place: it compares both stores bucket by bucket, copies the',
    '  current state of each document that differs and deletes rows whose document is gone.',
    `  to reload only these collections now: ferry backfill --only ${collections.join(',')} --force --yes`,
  ];
}
