import { EJSON, ObjectId } from 'bson';
import type { Queryable } from '../target/target-database.js';
import { idHash } from './document-id.js';

/** The unresolved rejects of one collection: how many, and the id hashes of those with an `_id`. */
export interface RejectedIds {
  readonly count: number;
  has(idHash: bigint): boolean;
}

/**
 * Load the open rejects (`resolved_at is null`) of a collection in a schema from
 * `ferry.rejects`, so verification counts those documents as rejected and accounted for
 * (DESIGN.md invariant 2), never as missing. No `ferry.rejects` table means no rejects.
 *
 * `doc_id` is text; it is read as Extended JSON when it parses as such (`{"$oid":…}`, `5`,
 * `"abc"`), and also as a bare string and, when it is 24 hex digits, as an ObjectId's hex:
 * matching any reading is safe, since a false match needs two different ids to share a
 * 64-bit hash.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const db: TargetDatabase;
 * declare const doc: Document;
 * const rejected = await loadRejectedIds(db, 'public', 'orders');
 * rejected.has(idHash(doc._id))   // true: not a missing document
 */
export async function loadRejectedIds(
  db: Queryable,
  schema: string,
  collection: string,
): Promise<RejectedIds> {
  const exists = await db.query<{ t: string | null }>(`select to_regclass('ferry.rejects')::text as t`);
  if (exists.rows[0]?.t == null) return { count: 0, has: () => false };
  const { rows } = await db.query<{ doc_id: string | null }>(
    'select doc_id from ferry.rejects where schema = $1 and collection = $2 and resolved_at is null',
    [schema, collection],
  );
  const hashes = new Set<bigint>();
  for (const { doc_id: text } of rows) {
    if (text === null) continue;
    for (const id of idReadings(text)) hashes.add(idHash(id));
  }
  return { count: rows.length, has: (h) => hashes.has(h) };
}

/**
 * The ids a stored `doc_id` may stand for: the text itself, its Extended JSON reading, and
 * for 24 hex digits an ObjectId.
 *
 * @example
 * idReadings('{"$oid":"65a1…"}')   // ['{"$oid":"65a1…"}', ObjectId('65a1…')]
 */
export function idReadings(text: string): unknown[] {
  const out: unknown[] = [text];
  try {
    out.push(EJSON.parse(text, { relaxed: false }));
  } catch {
    // Not Extended JSON: the bare string reading stands.
  }
  if (/^[0-9a-f]{24}$/i.test(text)) out.push(ObjectId.createFromHexString(text.toLowerCase()));
  return out;
}
