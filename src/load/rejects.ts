import type { Document } from 'bson';
import type { Plan } from '../mapping/model.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import { parseExtendedJson } from '../sources/ejson/parse-extended-json.js';
import type { Queryable, TargetDatabase } from '../target/target-database.js';
import { ChunkEncoder } from './chunk-encoder.js';
import { tableTargets } from './table-writer.js';
import { writeIsolated } from './write-chunk.js';

/**
 * `ferry rejects list|show|retry` as library functions: inspect what `ferry.rejects` holds,
 * and after fixing the mapping (or the target's constraints), load the rejected documents
 * again. A retried document that loads is marked resolved and moves, in its checkpoint, from
 * `rejected` to `migrated`, so `migrated + rejected = read` keeps holding.
 */

/** A row of `ferry.rejects` without the document (`showReject` gives it). */
export interface RejectEntry {
  readonly id: number;
  readonly runId: number | null;
  readonly schema: string;
  readonly collection: string;
  readonly docId: string | null;
  readonly stage: 'read' | 'transform' | 'load';
  readonly code: string;
  readonly reason: string;
  readonly path: string | null;
  /** Where in the source (read rejects): file, line (JSON) and byte offset; null when unknown. */
  readonly file: string | null;
  readonly line: number | null;
  readonly offset: number | null;
  readonly createdAt: string;
  readonly resolvedAt: string | null;
}

/** A reject with its raw document. */
export interface RejectDetail extends RejectEntry {
  readonly raw: string;
  readonly rawEncoding: 'ejson' | 'text' | 'base64';
}

/**
 * Which rejects to look at.
 *
 * @example
 * declare const db: TargetDatabase;
 * await listRejects(db, { schema: 'public', collection: 'orders', limit: 20 });
 */
export interface RejectFilter {
  readonly schema?: string;
  readonly collection?: string;
  readonly ids?: readonly number[];
  /** Only rejects of these target schemas. */
  readonly schemas?: readonly string[];
  /** Only rejects of these stages. */
  readonly stages?: readonly RejectEntry['stage'][];
  /** Only rejects recorded by runs before this one (or by no run). */
  readonly beforeRun?: number;
  /** Include resolved ones (default: only open ones). */
  readonly all?: boolean;
  readonly limit?: number;
}

const COLUMNS = `id, run_id, schema, collection, doc_id, stage, code, reason, path,
  source_file, source_line, source_offset,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as created_at,
  to_char(resolved_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as resolved_at`;

/**
 * Rejects matching `filter`, oldest first.
 *
 * @example
 * declare const db: TargetDatabase;
 * for (const r of await listRejects(db, { collection: 'orders' })) console.log(r.id, r.docId, r.reason);
 */
export async function listRejects(db: Queryable, filter: RejectFilter = {}): Promise<readonly RejectEntry[]> {
  const { where, params } = whereClause(filter);
  const limit = filter.limit === undefined ? '' : ` limit ${Math.max(0, Math.floor(filter.limit))}`;
  const { rows } = await db.query<Record<string, unknown>>(
    `select ${COLUMNS} from ferry.rejects ${where} order by id${limit}`,
    params,
  );
  return rows.map(entry);
}

/**
 * One reject with its raw document, or undefined.
 *
 * @example
 * declare const db: TargetDatabase;
 * const reject = await showReject(db, 42);
 * console.log(reject?.raw);   // '{"_id":{"$oid":"…"},…}'
 */
export async function showReject(db: Queryable, id: number): Promise<RejectDetail | undefined> {
  const { rows } = await db.query<Record<string, unknown>>(
    `select ${COLUMNS}, raw, raw_encoding from ferry.rejects where id = $1`,
    [id],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    ...entry(row),
    raw: String(row.raw),
    rawEncoding: row.raw_encoding as RejectDetail['rawEncoding'],
  };
}

/** What `retryRejects` did. */
export interface RetryResult {
  /** Loaded now and marked resolved. */
  readonly resolved: readonly number[];
  /** Still refused, with the current reason (their rows are updated). */
  readonly stillRejected: readonly { readonly id: number; readonly stage: string; readonly reason: string }[];
  /** Read rejects: the source itself is damaged, so only fixing the source helps. */
  readonly notRetryable: readonly number[];
}

/**
 * Load open transform and load rejects again with `plan` (presumably fixed), one transaction
 * per schema and collection. Documents that now map and load are written (staging and
 * `ON CONFLICT DO NOTHING`, as the tables already hold rows), marked resolved, and moved from
 * `rejected` to `migrated` in their checkpoint, all in that transaction. The others keep
 * their reject row, with the new reason.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const { resolved, stillRejected } = await retryRejects(db, plan, { collection: 'orders' });
 */
export async function retryRejects(
  db: TargetDatabase,
  plan: Plan,
  filter: RejectFilter = {},
  options: { transforms?: TransformRegistry } = {},
): Promise<RetryResult> {
  const { where, params } = whereClause({ ...filter, all: false });
  const { rows } = await db.query<{
    id: string;
    schema: string;
    collection: string;
    raw: string;
    raw_encoding: string;
    stage: string;
  }>(
    `select id, schema, collection, raw, raw_encoding, stage from ferry.rejects ${where} order by id`,
    params,
  );
  const notRetryable: number[] = [];
  const groups = new Map<
    string,
    { schema: string; collection: string; items: { id: number; raw: string }[] }
  >();
  for (const row of rows) {
    if (
      row.stage === 'read' ||
      row.raw_encoding !== 'ejson' ||
      !plan.collections.some((c) => c.name === row.collection)
    ) {
      notRetryable.push(Number(row.id));
      continue;
    }
    const key = `${row.schema}\u0000${row.collection}`;
    const group = groups.get(key) ?? { schema: row.schema, collection: row.collection, items: [] };
    group.items.push({ id: Number(row.id), raw: row.raw });
    groups.set(key, group);
  }
  const resolved: number[] = [];
  const stillRejected: { id: number; stage: string; reason: string }[] = [];
  for (const group of groups.values()) {
    const items = group.items.map((item) => ({
      id: item.id,
      // Ferry's parser, not EJSON.parse: it keeps BSON undefined ({"$undefined": true}).
      doc: parseExtendedJson(item.raw) as Document,
    }));
    const outcome = await loadAgain(db, plan, group.schema, group.collection, items, options.transforms);
    resolved.push(...outcome.resolved);
    stillRejected.push(...outcome.stillRejected);
  }
  return { resolved: resolved.sort((a, b) => a - b), stillRejected, notRetryable };
}

/** A rejected document to load again: its reject row and the document as it now reads. */
export interface RetryItem {
  readonly id: number;
  readonly doc: Document;
}

/**
 * Load documents of one collection and schema again in one transaction: those that now map
 * and load are written (staging and `ON CONFLICT DO NOTHING`, as the tables already hold
 * rows), their rejects marked resolved, and their checkpoint moved from `rejected` to
 * `migrated`; the others keep their reject row, with the new stage and reason.
 *
 * @example
 * import type { Document } from 'bson';
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * declare const doc: Document;
 * const { resolved } = await loadAgain(db, plan, 'public', 'orders', [{ id: 7, doc }]);
 */
export async function loadAgain(
  db: TargetDatabase,
  plan: Plan,
  schema: string,
  collection: string,
  items: readonly RetryItem[],
  transforms?: TransformRegistry,
): Promise<Pick<RetryResult, 'resolved' | 'stillRejected'>> {
  const resolved: number[] = [];
  const stillRejected: { id: number; stage: string; reason: string }[] = [];
  const collectionPlan = plan.collections.find((c) => c.name === collection)!;
  await db.transaction(async (tx) => {
    const encoder = new ChunkEncoder(plan, collection, transforms);
    /** Reject ids of the documents in the encoder, in order. */
    const encoded: number[] = [];
    const mark = async (id: number, stage: string, code: string, reason: string) => {
      await markStillRejected(tx, id, stage, code, reason);
      stillRejected.push({ id, stage, reason });
    };
    for (const item of items) {
      const reject = encoder.addDocument(item.doc);
      if (reject === undefined) encoded.push(item.id);
      else await mark(item.id, reject.stage, reject.code, reject.reason);
    }
    const written = await writeIsolated(
      tx,
      { schema, tables: tableTargets(collectionPlan, schema), mode: 'upsert' },
      encoder.finish(),
    );
    for (const { index, reject } of written.failed)
      await mark(encoded[index]!, reject.stage, reject.code, reject.reason);
    const failedIndexes = new Set(written.failed.map((f) => f.index));
    const loaded = encoded.filter((_, index) => !failedIndexes.has(index));
    if (loaded.length === 0) return;
    await tx.query('update ferry.rejects set resolved_at = now() where id = any($1::bigint[])', [loaded]);
    await tx.query(
      `update ferry.checkpoints set migrated = migrated + $3, rejected = rejected - $3, updated_at = now()
        where schema = $1 and collection = $2`,
      [schema, collection, loaded.length],
    );
    resolved.push(...loaded);
  });
  return { resolved, stillRejected };
}

/** Keep a reject open with the reason it has now. */
export async function markStillRejected(
  db: Queryable,
  id: number,
  stage: string,
  code: string,
  reason: string,
): Promise<void> {
  await db.query('update ferry.rejects set stage = $2, code = $3, reason = $4 where id = $1', [
    id,
    stage,
    code,
    reason,
  ]);
}

export function whereClause(filter: RejectFilter): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.all !== true) conditions.push('resolved_at is null');
  if (filter.schema !== undefined) {
    params.push(filter.schema);
    conditions.push(`schema = $${params.length}`);
  }
  if (filter.collection !== undefined) {
    params.push(filter.collection);
    conditions.push(`collection = $${params.length}`);
  }
  if (filter.ids !== undefined) {
    params.push(filter.ids);
    conditions.push(`id = any($${params.length}::bigint[])`);
  }
  if (filter.schemas !== undefined) {
    params.push(filter.schemas);
    conditions.push(`schema = any($${params.length}::text[])`);
  }
  if (filter.stages !== undefined) {
    params.push(filter.stages);
    conditions.push(`stage = any($${params.length}::text[])`);
  }
  if (filter.beforeRun !== undefined) {
    params.push(filter.beforeRun);
    conditions.push(`(run_id is null or run_id < $${params.length})`);
  }
  return { where: conditions.length === 0 ? '' : `where ${conditions.join(' and ')}`, params };
}

function entry(row: Record<string, unknown>): RejectEntry {
  return {
    id: Number(row.id),
    runId: row.run_id === null ? null : Number(row.run_id),
    schema: String(row.schema),
    collection: String(row.collection),
    docId: row.doc_id === null ? null : String(row.doc_id),
    stage: row.stage as RejectEntry['stage'],
    code: String(row.code),
    reason: String(row.reason),
    path: row.path === null ? null : String(row.path),
    file: row.source_file === null ? null : String(row.source_file),
    line: row.source_line === null ? null : Number(row.source_line),
    offset: row.source_offset === null ? null : Number(row.source_offset),
    createdAt: String(row.created_at),
    resolvedAt: row.resolved_at === null ? null : String(row.resolved_at),
  };
}
