import { errorCode } from '../target/retry.js';
import type { TargetTransaction } from '../target/target-database.js';
import type { Chunk } from './chunk.js';
import type { EncodedDocuments } from './encoded-documents.js';
import { type RejectRecord, rejectFromLoad } from './reject-record.js';
import { advanceCheckpoint, insertRejects, positionToJson } from './state-store.js';
import { ensureStaging, type TableTarget, type WriteMode, writeDocuments } from './table-writer.js';

/** Where a chunk goes: one collection's tables in one target schema. */
export interface ChunkTarget {
  readonly schema: string;
  readonly collection: string;
  readonly tables: readonly TableTarget[];
  readonly mode: WriteMode;
  readonly runId: number | undefined;
  /**
   * The checkpoint's totals before this chunk. When given, a chunk that the checkpoint shows
   * as already committed is not written again: the retry of a transaction whose COMMIT went
   * through while its answer was lost with the connection (a server restart at that moment).
   */
  readonly before?: ChunkTotals;
}

/** A checkpoint's running totals. */
export interface ChunkTotals {
  readonly read: number;
  readonly migrated: number;
  readonly rejected: number;
}

/** What one committed chunk did in one schema. */
export interface ChunkResult {
  readonly migrated: number;
  /** Read, transform and load rejects together. */
  readonly rejected: number;
  readonly loadRejects: readonly RejectRecord[];
  /** Rows written per table. */
  readonly rows: ReadonlyMap<string, number>;
  /** COPY (or COPY + INSERT) rounds, 1 when no row failed: shows bisection's cost. */
  readonly writes: number;
}

/**
 * Write one chunk into one schema inside `tx`, the caller's transaction: the rows of every
 * document, then its rejects, then the checkpoint moved past the chunk. Committed together,
 * they make the chunk exactly-once (DESIGN.md invariant 3).
 *
 * A document PostgreSQL refuses (a CHECK, a duplicate key, a value the column type cannot
 * take) must not cost the rest of its chunk. The whole chunk is tried first under a
 * savepoint; if a row fails, the documents are bisected, each half under its own savepoint:
 * a half that goes in stays in, a half that fails is split again, and a single failing
 * document is a load reject. A chunk of n documents with one bad one costs about 2·log2(n)
 * extra writes. Only row-level failures (SQLSTATE classes 22 and 23, and 54000 for a value
 * too large) are isolated this way; anything else (a lost connection, a missing table) fails
 * the chunk, which is then retried or reported as a whole.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const chunk: Chunk;
 * const tables = tableTargets(plan.collections[0]!, 'app');
 * const target = { schema: 'app', collection: 'orders', tables, mode: 'copy', runId: 7 } as const;
 * await db.transaction((tx) => writeChunk(tx, target, chunk));
 */
export async function writeChunk(
  tx: TargetTransaction,
  target: ChunkTarget,
  chunk: Chunk,
): Promise<ChunkResult> {
  if (target.before !== undefined) {
    const committed = await committedBefore(tx, target, target.before, chunk);
    if (committed !== undefined) return committed;
  }
  const written = await writeIsolated(tx, target, chunk.docs);
  const loadRejects = written.failed.map((f) => f.reject);
  const migrated = chunk.docs.count - written.failed.length;
  const rejects = [...chunk.rejects, ...loadRejects];
  await insertRejects(tx, target.runId, target.schema, target.collection, rejects);
  await advanceCheckpoint(tx, target.schema, target.collection, {
    position: chunk.position,
    read: chunk.read,
    migrated,
    rejected: rejects.length,
    complete: false,
    runId: target.runId,
  });
  return {
    migrated,
    rejected: rejects.length,
    loadRejects,
    rows: written.rows,
    writes: written.writes,
  };
}

/**
 * The chunk's result when the checkpoint already stands at its end (its position, and its
 * documents counted on top of `before`), else undefined. Locks the checkpoint row, so no
 * other writer moves it between this look and the write. Rows per table and reject samples
 * of that earlier commit are not known here; the counts are exact.
 */
async function committedBefore(
  tx: TargetTransaction,
  target: ChunkTarget,
  before: ChunkTotals,
  chunk: Chunk,
): Promise<ChunkResult | undefined> {
  const { rows } = await tx.query<{ read: string; migrated: string; rejected: string; at_end: boolean }>(
    `select read::text, migrated::text, rejected::text, position = $3::jsonb as at_end
       from ferry.checkpoints where schema = $1 and collection = $2 for update`,
    [target.schema, target.collection, JSON.stringify(positionToJson(chunk.position))],
  );
  const row = rows[0];
  if (row === undefined || row.at_end !== true || Number(row.read) !== before.read + chunk.read)
    return undefined;
  return {
    migrated: Number(row.migrated) - before.migrated,
    rejected: Number(row.rejected) - before.rejected,
    loadRejects: [],
    rows: new Map(target.tables.map((t) => [t.name, 0])),
    writes: 0,
  };
}

/** What `writeIsolated` did: the documents refused (by index, with why), rows per table. */
export interface IsolatedWrite {
  readonly failed: readonly { readonly index: number; readonly reject: RejectRecord }[];
  readonly rows: ReadonlyMap<string, number>;
  readonly writes: number;
}

/**
 * Write `docs` into the target's tables, isolating the documents PostgreSQL refuses by
 * bisection under savepoints (see `writeChunk`); every other document is in. Used by the
 * backfill and by `ferry rejects retry`.
 *
 * @example
 * declare const docs: EncodedDocuments;
 * declare const tx: TargetTransaction;
 * declare const tables: readonly TableTarget[];
 * const { failed } = await writeIsolated(tx, { schema: 'app', tables, mode: 'upsert' }, docs);
 */
export async function writeIsolated(
  tx: TargetTransaction,
  target: Pick<ChunkTarget, 'schema' | 'tables' | 'mode'>,
  docs: EncodedDocuments,
): Promise<IsolatedWrite> {
  if (target.mode === 'upsert' && docs.count > 0) await ensureStaging(tx, target.schema, target.tables);
  const rows = new Map<string, number>(target.tables.map((t) => [t.name, 0]));
  const failed: { index: number; reject: RejectRecord }[] = [];
  let writes = 0;

  /** Try documents `[from, to)` under a savepoint; undefined when they went in, else the row failure. */
  const attempt = async (from: number, to: number, depth: number): Promise<unknown> => {
    const savepoint = `ferry_chunk_${depth}`;
    await tx.query(`savepoint ${savepoint}`);
    writes++;
    try {
      const written = await writeDocuments(tx, target.schema, target.tables, docs, { from, to }, target.mode);
      await tx.query(`release savepoint ${savepoint}`);
      for (const [table, n] of written) rows.set(table, (rows.get(table) ?? 0) + n);
      return undefined;
    } catch (error) {
      if (!isRowFailure(error)) throw error;
      await tx.query(`rollback to savepoint ${savepoint}`);
      await tx.query(`release savepoint ${savepoint}`);
      return error;
    }
  };

  /** Documents `[from, to)` are known to fail together; find which of them fail on their own. */
  const isolate = async (from: number, to: number, failure: unknown, depth: number): Promise<void> => {
    if (to - from === 1) {
      failed.push({ index: from, reject: loadReject(docs, from, failure) });
      return;
    }
    const middle = from + Math.ceil((to - from) / 2);
    for (const [a, b] of [
      [from, middle],
      [middle, to],
    ] as const) {
      const error = await attempt(a, b, depth + 1);
      if (error !== undefined) await isolate(a, b, error, depth + 1);
    }
  };

  if (docs.count > 0) {
    const failure = await attempt(0, docs.count, 0);
    if (failure !== undefined) await isolate(0, docs.count, failure, 0);
  }
  return { failed, rows, writes };
}

/**
 * A failure caused by the rows themselves, which another subset of the chunk would not hit:
 * data exceptions (22xxx: bad value for the type, out of range), integrity violations
 * (23xxx: CHECK, unique, NOT NULL, foreign key) and program_limit_exceeded (54000: a value
 * too large to index or store).
 */
export function isRowFailure(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && (code.startsWith('22') || code.startsWith('23') || code === '54000');
}

function loadReject(docs: EncodedDocuments, index: number, failure: unknown): RejectRecord {
  const code = errorCode(failure) ?? '';
  const kind = code.startsWith('23')
    ? 'LOAD_CONSTRAINT_VIOLATION'
    : code.startsWith('22')
      ? 'LOAD_BAD_VALUE'
      : 'LOAD_TOO_LARGE';
  const reason = failure instanceof Error ? failure.message : String(failure);
  return rejectFromLoad(docs.document(index), kind, reason);
}
