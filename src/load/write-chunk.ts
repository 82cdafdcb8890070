import { errorCode } from '../target/retry.js';
import type { TargetTransaction } from '../target/target-database.js';
import type { Chunk, PreparedDocument } from './chunk.js';
import { type RejectRecord, rejectFromLoad } from './reject-record.js';
import { advanceCheckpoint, insertRejects } from './state-store.js';
import { ensureStaging, type TableTarget, type WriteMode, writeDocuments } from './table-writer.js';

/** Where a chunk goes: one collection's tables in one target schema. */
export interface ChunkTarget {
  readonly schema: string;
  readonly collection: string;
  readonly tables: readonly TableTarget[];
  readonly mode: WriteMode;
  readonly runId: number | undefined;
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
 * await db.transaction((tx) => writeChunk(tx, { schema: 'app', collection: 'orders', tables, mode: 'copy', runId }, chunk));
 */
export async function writeChunk(
  tx: TargetTransaction,
  target: ChunkTarget,
  chunk: Chunk,
): Promise<ChunkResult> {
  const written = await writeIsolated(tx, target, chunk.docs);
  const loadRejects = written.failed.map((f) => f.reject);
  const rejects = [...chunk.rejects, ...loadRejects];
  await insertRejects(tx, target.runId, target.schema, target.collection, rejects);
  await advanceCheckpoint(tx, target.schema, target.collection, {
    position: chunk.position,
    read: chunk.read,
    migrated: written.loaded.length,
    rejected: rejects.length,
    complete: false,
    runId: target.runId,
  });
  return {
    migrated: written.loaded.length,
    rejected: rejects.length,
    loadRejects,
    rows: written.rows,
    writes: written.writes,
  };
}

/** What `writeIsolated` did: the documents in, the ones refused (with why), rows per table. */
export interface IsolatedWrite {
  readonly loaded: readonly PreparedDocument[];
  readonly failed: readonly { readonly doc: PreparedDocument; readonly reject: RejectRecord }[];
  readonly rows: ReadonlyMap<string, number>;
  readonly writes: number;
}

/**
 * Write `docs` into the target's tables, isolating the documents PostgreSQL refuses by
 * bisection under savepoints (see `writeChunk`). Used by the backfill and by `ferry rejects retry`.
 *
 * @example
 * const { loaded, failed } = await writeIsolated(tx, { schema: 'app', tables, mode: 'upsert' }, docs);
 */
export async function writeIsolated(
  tx: TargetTransaction,
  target: Pick<ChunkTarget, 'schema' | 'tables' | 'mode'>,
  docs: readonly PreparedDocument[],
): Promise<IsolatedWrite> {
  if (target.mode === 'upsert' && docs.length > 0) await ensureStaging(tx, target.schema, target.tables);
  const rows = new Map<string, number>(target.tables.map((t) => [t.name, 0]));
  const loaded: PreparedDocument[] = [];
  const failed: { doc: PreparedDocument; reject: RejectRecord }[] = [];
  let writes = 0;

  /** Try `some` under a savepoint; undefined when they went in, else the row failure. */
  const attempt = async (some: readonly PreparedDocument[], depth: number): Promise<unknown> => {
    const savepoint = `ferry_chunk_${depth}`;
    await tx.query(`savepoint ${savepoint}`);
    writes++;
    try {
      const written = await writeDocuments(tx, target.schema, target.tables, some, target.mode);
      await tx.query(`release savepoint ${savepoint}`);
      for (const [table, n] of written) rows.set(table, (rows.get(table) ?? 0) + n);
      loaded.push(...some);
      return undefined;
    } catch (error) {
      if (!isRowFailure(error)) throw error;
      await tx.query(`rollback to savepoint ${savepoint}`);
      await tx.query(`release savepoint ${savepoint}`);
      return error;
    }
  };

  /** `some` are known to fail together; find which of them fail on their own. */
  const isolate = async (
    some: readonly PreparedDocument[],
    failure: unknown,
    depth: number,
  ): Promise<void> => {
    if (some.length === 1) {
      failed.push({ doc: some[0]!, reject: loadReject(some[0]!, failure) });
      return;
    }
    const middle = Math.ceil(some.length / 2);
    for (const half of [some.slice(0, middle), some.slice(middle)]) {
      const error = await attempt(half, depth + 1);
      if (error !== undefined) await isolate(half, error, depth + 1);
    }
  };

  if (docs.length > 0) {
    const failure = await attempt(docs, 0);
    if (failure !== undefined) await isolate(docs, failure, 0);
  }
  return { loaded, failed, rows, writes };
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

function loadReject(doc: PreparedDocument, failure: unknown): RejectRecord {
  const code = errorCode(failure) ?? '';
  const kind = code.startsWith('23')
    ? 'LOAD_CONSTRAINT_VIOLATION'
    : code.startsWith('22')
      ? 'LOAD_BAD_VALUE'
      : 'LOAD_TOO_LARGE';
  const reason = failure instanceof Error ? failure.message : String(failure);
  return rejectFromLoad(doc.doc, kind, reason);
}
