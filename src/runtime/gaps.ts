import { type Document, EJSON } from 'bson';
import { MongoError } from 'mongodb';
import { FerryError } from '../core/errors.js';
import { idText } from '../load/reject-record.js';
import type { Queryable } from '../target/target-database.js';
import type { RuntimeStores } from './entity-copy.js';
import { targetOf } from './stores.js';

/**
 * Gaps (DESIGN.md runtime rule 2): an entity whose mirror copy failed. A gap is recorded, never
 * thrown at the user's request, and `ferry reconcile` closes it by copying the entity's current
 * state. `ferry.gaps` holds at most one open gap per entity; a new failure on it bumps
 * `attempts` and `last_seen`.
 *
 * When PostgreSQL itself is down, the gap goes to the MongoDB collection `ferry_gaps` in the
 * application's database, and is moved into `ferry.gaps` once PostgreSQL answers again (by the
 * runtime, or by `ferry reconcile`). MongoDB rather than a local journal file because:
 * - MongoDB has just acknowledged the very write the gap is about, so it is up, and it keeps
 *   the gap with the same durability as the write (replicated, unlike a container's disk);
 * - every app instance and `ferry reconcile`, wherever it runs, sees the same gaps: a file
 *   would strand them on the host (or the ephemeral container) that wrote them.
 */

/**
 * The MongoDB collection that holds gaps while PostgreSQL is unreachable.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const parked = await stores.mongo.collection(GAP_COLLECTION).countDocuments({ schema: stores.schema });
 */
export const GAP_COLLECTION = 'ferry_gaps';

/** An entity to record as a gap. */
export interface GapRecord {
  readonly collection: string;
  readonly id: unknown;
  /** The write that left it behind (`updateMany`, `save`, …). */
  readonly operation: string;
  readonly error: unknown;
}

/** What a failure says about itself without row values (DESIGN.md: values never in output). */
export interface GapError {
  readonly code: string;
  readonly message: string;
}

/**
 * The code and message of an error, without values: Ferry's errors keep values out by
 * construction (target-error.ts); a MongoDB server message can quote a duplicate key's value,
 * so only its code name is kept; anything else keeps its class name.
 *
 * @example
 * import { MongoServerError } from 'mongodb';
 * gapError(new MongoServerError({ code: 11000, codeName: 'DuplicateKey', errmsg: '… dup key: { email: "a@b" }' }))
 * // { code: '11000', message: 'MongoServerError: DuplicateKey' }
 */
export function gapError(error: unknown): GapError {
  if (error instanceof FerryError) {
    const sqlState = (error as { sqlState?: unknown }).sqlState;
    return { code: typeof sqlState === 'string' ? sqlState : error.code, message: error.message };
  }
  if (error instanceof MongoError) {
    const codeName = (error as { codeName?: unknown }).codeName;
    return {
      code: String(error.code ?? error.name),
      message: typeof codeName === 'string' ? `${error.name}: ${codeName}` : error.name,
    };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : error.name, message: error.name };
  }
  return { code: 'UNKNOWN', message: typeof error };
}

interface GapRow {
  readonly collection: string;
  readonly docId: string;
  readonly operation: string;
  readonly code: string;
  readonly message: string;
  readonly attempts: number;
}

/**
 * Record gaps in `ferry.gaps`, or, when PostgreSQL cannot take them (or `postgresDown` says it
 * is known to be down), in MongoDB's `ferry_gaps`. Returns where they went; throws only when
 * neither store took them.
 *
 * @example
 * import type { ObjectId } from 'bson';
 * declare const stores: RuntimeStores;
 * declare const id: ObjectId;
 * declare const error: unknown;
 * await recordGaps(stores, [{ collection: 'orders', id, operation: 'updateOne', error }]);   // 'postgres'
 */
export async function recordGaps(
  stores: RuntimeStores,
  gaps: readonly GapRecord[],
  options: { postgresDown?: boolean } = {},
): Promise<'postgres' | 'mongo'> {
  const rows = gaps.flatMap((gap): GapRow[] => {
    const docId = idText(gap.id);
    if (docId === null) return [];
    const { code, message } = gapError(gap.error);
    return [{ collection: gap.collection, docId, operation: gap.operation, code, message, attempts: 1 }];
  });
  if (rows.length === 0) return 'postgres';
  try {
    // Known to be down: straight to MongoDB, without waiting for a connection to be refused.
    if (options.postgresDown === true) throw new Error('PostgreSQL is unreachable');
    await insertGapRows(targetOf(stores.pg), stores.schema, rows);
    return 'postgres';
  } catch (postgresError) {
    try {
      const at = new Date();
      await stores.mongo
        .collection(GAP_COLLECTION)
        .insertMany(rows.map((r) => ({ schema: stores.schema, ...r, at })));
      return 'mongo';
    } catch {
      throw postgresError;
    }
  }
}

async function insertGapRows(db: Queryable, schema: string, rows: readonly GapRow[]): Promise<void> {
  // One statement may not touch a row twice (ON CONFLICT … DO UPDATE refuses it), and one
  // batch can hold an entity twice: written twice while PostgreSQL was away, both parked in
  // MongoDB. Each entity's rows fold into one: attempts summed, the last failure kept.
  const folded = new Map<string, GapRow>();
  for (const row of rows) {
    const key = JSON.stringify([row.collection, row.docId]);
    const earlier = folded.get(key);
    folded.set(key, earlier === undefined ? row : { ...row, attempts: earlier.attempts + row.attempts });
  }
  await db.query(
    `insert into ferry.gaps as g (schema, collection, doc_id, operation, error_code, error_message, attempts)
     select $1, r.collection, r.doc_id, r.operation, r.code, r.message, r.attempts
       from jsonb_to_recordset($2::jsonb) as r(collection text, doc_id text, operation text, code text, message text, attempts integer)
     on conflict (schema, collection, doc_id) where closed_at is null do update set
       attempts = g.attempts + excluded.attempts, last_seen = now(), operation = excluded.operation,
       error_code = excluded.error_code, error_message = excluded.error_message`,
    [
      schema,
      JSON.stringify(
        [...folded.values()].map((r) => ({
          collection: r.collection,
          doc_id: r.docId,
          operation: r.operation,
          code: r.code,
          message: r.message,
          attempts: r.attempts,
        })),
      ),
    ],
  );
}

/**
 * Move the gaps MongoDB kept while PostgreSQL was down into `ferry.gaps`, a batch at a time
 * (insert, then delete what was inserted: a crash in between records a gap twice, which the
 * one-open-gap-per-entity index folds into one). Returns how many moved.
 *
 * @example
 * declare const stores: RuntimeStores;
 * const moved = await moveMongoGaps(stores);
 */
export async function moveMongoGaps(stores: RuntimeStores, batchSize = 1000): Promise<number> {
  const parked = stores.mongo.collection<Document>(GAP_COLLECTION);
  let moved = 0;
  for (;;) {
    const docs = await parked.find({ schema: stores.schema }).limit(batchSize).toArray();
    if (docs.length === 0) return moved;
    await insertGapRows(
      targetOf(stores.pg),
      stores.schema,
      docs.map((d) => ({
        collection: String(d.collection),
        docId: String(d.docId),
        operation: String(d.operation),
        code: String(d.code),
        message: String(d.message),
        attempts: Number(d.attempts ?? 1),
      })),
    );
    await parked.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    moved += docs.length;
  }
}

/**
 * An open gap.
 *
 * @example
 * declare const db: TargetDatabase;
 * const [gap]: readonly OpenGap[] = await openGaps(db, 'public', { collection: 'orders', limit: 1 });
 * gap?.entityId   // ObjectId('…'), the _id to copy again
 */
export interface OpenGap {
  readonly id: number;
  readonly collection: string;
  /** The `_id` decoded from its canonical Extended JSON. */
  readonly entityId: unknown;
  readonly docId: string;
  readonly operation: string;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly attempts: number;
  readonly firstSeen: string;
  /** Exactly as stored, so a gap is closed only if no failure was recorded after it was read. */
  readonly lastSeen: string;
}

/**
 * Open gaps of a schema in id order, after `afterId`.
 *
 * @example
 * declare const db: TargetDatabase;
 * for (const gap of await openGaps(db, 'public')) console.log(gap.collection, gap.docId, gap.errorCode);
 */
export async function openGaps(
  db: Queryable,
  schema: string,
  options: { afterId?: number; limit?: number; collection?: string } = {},
): Promise<readonly OpenGap[]> {
  const params: unknown[] = [schema, options.afterId ?? 0];
  let where = 'schema = $1 and id > $2 and closed_at is null';
  if (options.collection !== undefined) {
    params.push(options.collection);
    where += ` and collection = $${params.length}`;
  }
  const { rows } = await db.query<Record<string, string>>(
    `select id, collection, doc_id, operation, error_code, error_message, attempts,
            to_char(first_seen at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as first_seen,
            last_seen::text as last_seen
       from ferry.gaps where ${where} order by id limit ${Math.max(1, Math.floor(options.limit ?? 1000))}`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    collection: r.collection!,
    entityId: EJSON.parse(r.doc_id!, { relaxed: false }),
    docId: r.doc_id!,
    operation: r.operation!,
    errorCode: r.error_code ?? null,
    errorMessage: r.error_message ?? null,
    attempts: Number(r.attempts),
    firstSeen: r.first_seen!,
    lastSeen: r.last_seen!,
  }));
}

/**
 * Close gaps whose entity was copied, unless a failure was recorded on them since they were read.
 * Returns how many closed.
 */
export async function closeGaps(db: Queryable, gaps: readonly OpenGap[]): Promise<number> {
  if (gaps.length === 0) return 0;
  const { rowCount } = await db.query(
    `update ferry.gaps g set closed_at = now()
       from unnest($1::bigint[], $2::text[]) as c(id, last_seen)
      where g.id = c.id and g.last_seen = c.last_seen::timestamptz and g.closed_at is null`,
    [gaps.map((g) => g.id), gaps.map((g) => g.lastSeen)],
  );
  return rowCount;
}

/** Count another failed attempt on gaps, with the latest error. */
export async function bumpGaps(db: Queryable, gaps: readonly OpenGap[], error: unknown): Promise<void> {
  if (gaps.length === 0) return;
  const { code, message } = gapError(error);
  await db.query(
    `update ferry.gaps set attempts = attempts + 1, last_seen = now(), error_code = $2, error_message = $3
      where id = any($1::bigint[]) and closed_at is null`,
    [gaps.map((g) => g.id), code, message],
  );
}

/**
 * Open gaps of one collection: how many and the oldest one's age.
 *
 * @example
 * declare const db: TargetDatabase;
 * for (const g of await gapSummary(db, 'public'))
 *   console.log(`${g.collection}: ${g.open} open, oldest ${g.oldestAgeSeconds ?? 0} s`);
 */
export interface GapSummary {
  readonly collection: string;
  readonly open: number;
  /** When the oldest open gap was first seen (ISO 8601), null when none is open. */
  readonly oldest: string | null;
  readonly oldestAgeSeconds: number | null;
  /** Open gaps whose copy failed more than once (a reconcile tried them and failed again). */
  readonly failedAgain: number;
}

/**
 * Open gaps per collection of a schema.
 *
 * @example
 * declare const db: TargetDatabase;
 * await gapSummary(db, 'public')   // [{ collection: 'orders', open: 3, oldest: '2026-…Z', oldestAgeSeconds: 42 }]
 */
export async function gapSummary(db: Queryable, schema: string): Promise<readonly GapSummary[]> {
  const { rows } = await db.query<{
    collection: string;
    open: string;
    oldest: string | null;
    age: string | null;
    failed_again: string;
  }>(
    `select collection, count(*) as open, count(*) filter (where attempts > 1) as failed_again,
            to_char(min(first_seen) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as oldest,
            extract(epoch from now() - min(first_seen))::float8 as age
       from ferry.gaps where schema = $1 and closed_at is null group by collection order by collection`,
    [schema],
  );
  return rows.map((r) => ({
    collection: r.collection,
    open: Number(r.open),
    oldest: r.oldest,
    oldestAgeSeconds: r.age === null ? null : Math.floor(Number(r.age)),
    failedAgain: Number(r.failed_again),
  }));
}
