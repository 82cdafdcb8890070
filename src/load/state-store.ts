import { type Document, EJSON } from 'bson';
import type { ResumePosition } from '../sources/types.js';
import type { Queryable } from '../target/target-database.js';
import type { RejectRecord } from './reject-record.js';

/**
 * Reads and writes of the backfill's rows in schema `ferry` (created by `ensureFerryState`,
 * steps 2–5 of ferry-state.ts): runs, checkpoints and rejects. Every function takes the
 * connection or transaction to use, so a chunk's checkpoint and rejects join its rows'
 * transaction.
 */

/** Where a collection's load stands in one target schema: a row of `ferry.checkpoints`. */
export interface Checkpoint {
  readonly position: ResumePosition | undefined;
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
  readonly complete: boolean;
}

/** The state before anything was loaded. */
export const EMPTY_CHECKPOINT: Checkpoint = Object.freeze({
  position: undefined,
  read: 0,
  migrated: 0,
  rejected: 0,
  complete: false,
});

/**
 * A resume position as jsonb. An `id` position keeps the `_id` as canonical Extended JSON, so
 * an Int32 id comes back an Int32 and a live source seeks with the exact type it gave.
 *
 * @example
 * import { ObjectId } from 'bson';
 * positionToJson({ kind: 'id', id: new ObjectId('65a1…') })   // { kind: 'id', id: { $oid: '65a1…' } }
 */
export function positionToJson(position: ResumePosition): unknown {
  if (position.kind === 'offset') return { kind: 'offset', offset: position.offset, index: position.index };
  return { kind: 'id', id: EJSON.serialize({ id: position.id } as Document, { relaxed: false }).id };
}

/** The inverse of `positionToJson`. */
export function positionFromJson(json: unknown): ResumePosition {
  const value = json as { kind: string; offset?: number; index?: number; id?: unknown };
  if (value.kind === 'offset')
    return { kind: 'offset', offset: Number(value.offset), index: Number(value.index) };
  return { kind: 'id', id: EJSON.deserialize({ id: value.id } as Document, { relaxed: false }).id };
}

/**
 * The checkpoint of a collection in a schema, or `EMPTY_CHECKPOINT`.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const source: Source;
 * const cp = await readCheckpoint(db, 'app', 'orders');
 * source.read('orders', cp.position ? { after: cp.position } : {});
 */
export async function readCheckpoint(db: Queryable, schema: string, collection: string): Promise<Checkpoint> {
  const { rows } = await db.query<{
    position: unknown;
    read: string;
    migrated: string;
    rejected: string;
    complete: boolean;
  }>(
    'select position, read, migrated, rejected, complete from ferry.checkpoints where schema = $1 and collection = $2',
    [schema, collection],
  );
  const row = rows[0];
  if (row === undefined) return EMPTY_CHECKPOINT;
  const position = typeof row.position === 'string' ? (JSON.parse(row.position) as unknown) : row.position;
  return {
    position: position === null || position === undefined ? undefined : positionFromJson(position),
    read: Number(row.read),
    migrated: Number(row.migrated),
    rejected: Number(row.rejected),
    complete: row.complete,
  };
}

/** What one committed chunk adds to a checkpoint. */
export interface CheckpointAdvance {
  readonly position: ResumePosition | undefined;
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
  readonly complete: boolean;
  readonly runId: number | undefined;
}

/**
 * Move a checkpoint forward by one chunk's counts (added in SQL, so the stored totals are
 * exactly the sum of committed chunks) and to its position. Run it in the chunk's transaction.
 */
export async function advanceCheckpoint(
  tx: Queryable,
  schema: string,
  collection: string,
  advance: CheckpointAdvance,
): Promise<void> {
  const position = advance.position === undefined ? null : JSON.stringify(positionToJson(advance.position));
  await tx.query(
    `insert into ferry.checkpoints as c (schema, collection, position, read, migrated, rejected, complete, run_id)
     values ($1, $2, $3::jsonb, $4, $5, $6, $7, $8)
     on conflict (schema, collection) do update set
       position = coalesce(excluded.position, c.position),
       read = c.read + excluded.read,
       migrated = c.migrated + excluded.migrated,
       rejected = c.rejected + excluded.rejected,
       complete = excluded.complete,
       run_id = coalesce(excluded.run_id, c.run_id),
       updated_at = now()`,
    [
      schema,
      collection,
      position,
      advance.read,
      advance.migrated,
      advance.rejected,
      advance.complete,
      advance.runId ?? null,
    ],
  );
}

/** Add rejects of one collection and schema; one statement however many. */
export async function insertRejects(
  tx: Queryable,
  runId: number | undefined,
  schema: string,
  collection: string,
  rejects: readonly RejectRecord[],
): Promise<void> {
  if (rejects.length === 0) return;
  await tx.query(
    `insert into ferry.rejects (run_id, schema, collection, doc_id, raw, raw_encoding, stage, code, reason, path,
                                source_file, source_line, source_offset)
     select $1, $2, $3, r.doc_id, r.raw, r.raw_encoding, r.stage, r.code, r.reason, r.path,
            r.source_file, r.source_line, r.source_offset
       from unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                   $11::text[], $12::bigint[], $13::bigint[])
         as r(doc_id, raw, raw_encoding, stage, code, reason, path, source_file, source_line, source_offset)`,
    [
      runId ?? null,
      schema,
      collection,
      rejects.map((r) => r.docId),
      rejects.map((r) => r.raw),
      rejects.map((r) => r.rawEncoding),
      rejects.map((r) => r.stage),
      rejects.map((r) => r.code),
      rejects.map((r) => r.reason),
      rejects.map((r) => r.path),
      rejects.map((r) => r.file),
      rejects.map((r) => r.line),
      rejects.map((r) => r.offset),
    ],
  );
}

/**
 * Record the start of a run; returns its id.
 *
 * @example
 * declare const db: TargetDatabase;
 * const runId = await startRun(db, 'backfill', { schemas: ['app'], batchSize: 1000 });
 */
export async function startRun(db: Queryable, command: string, options: unknown): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    'insert into ferry.runs (command, options) values ($1, $2::jsonb) returning id',
    [command, JSON.stringify(options ?? {})],
  );
  return Number(rows[0]?.id);
}

/** Record how a run ended. A run left `running` crashed (or is still going). */
export async function finishRun(
  db: Queryable,
  runId: number,
  status: 'succeeded' | 'failed' | 'aborted',
): Promise<void> {
  await db.query('update ferry.runs set status = $2, finished_at = now() where id = $1', [runId, status]);
}
