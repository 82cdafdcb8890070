import { redactSecrets } from '../../core/redact.js';
import { listRejects, type RejectEntry, showReject } from '../../load/rejects.js';
import type { Queryable } from '../../target/target-database.js';
import { displayId } from './runtime-section.js';

/**
 * Rejected documents (`ferry.rejects`): reason, code, stage and `_id` always; the raw document
 * only when the dashboard was started with `showValues`, as `ferry rejects show` is the one
 * command that prints it.
 */

export interface RejectsSection {
  /** Open rejects, over every schema and collection. */
  readonly open: number;
  /** The newest open ones. */
  readonly latest: readonly RejectEntry[];
}

/** A reject's detail for the page. */
export interface RejectView extends RejectEntry {
  /** The raw document, only with `showValues`. */
  readonly raw?: string;
  readonly rawEncoding?: string;
}

const REJECTS_SHOWN = 100;

/**
 * How many rejects are open, and the newest of them.
 *
 * @example
 * declare const db: TargetDatabase;
 * const { open, latest } = await readRejectsSection(db);
 * latest[0]?.reason
 */
export async function readRejectsSection(db: Queryable): Promise<RejectsSection> {
  const { rows: has } = await db.query<{ t: boolean }>(
    `select to_regclass('ferry.rejects') is not null as t`,
  );
  if (!has[0]?.t) return { open: 0, latest: [] };
  const { rows } = await db.query<{ n: string }>(
    'select count(*) as n from ferry.rejects where resolved_at is null',
  );
  const open = Number(rows[0]?.n ?? 0);
  if (open === 0) return { open, latest: [] };
  // The newest page, through the same listRejects the CLI uses (which lists oldest first).
  const { rows: newest } = await db.query<{ id: string }>(
    `select id from ferry.rejects where resolved_at is null order by id desc limit ${REJECTS_SHOWN}`,
  );
  const latest = (await listRejects(db, { ids: newest.map((r) => Number(r.id)) })).map(cleanEntry).reverse();
  return { open, latest };
}

/**
 * One reject with its document when `showValues`, or undefined when there is no such reject.
 *
 * @example
 * declare const db: TargetDatabase;
 * const reject = await readRejectView(db, 42, false);
 * reject?.raw   // undefined: values stay hidden
 */
export async function readRejectView(
  db: Queryable,
  id: number,
  showValues: boolean,
): Promise<RejectView | undefined> {
  const { rows: has } = await db.query<{ t: boolean }>(
    `select to_regclass('ferry.rejects') is not null as t`,
  );
  if (!has[0]?.t) return undefined;
  const detail = await showReject(db, id);
  if (detail === undefined) return undefined;
  const { raw, rawEncoding, ...entry } = detail;
  return showValues ? { ...cleanEntry(entry), raw: redactSecrets(raw), rawEncoding } : cleanEntry(entry);
}

/**
 * The `_id` as people type it (it is stored as canonical Extended JSON), and the reason
 * redacted: reasons come from drivers and servers too, and no credential leaves through them.
 */
function cleanEntry(entry: RejectEntry): RejectEntry {
  return {
    ...entry,
    docId: entry.docId === null ? null : displayId(entry.docId),
    reason: redactSecrets(entry.reason),
  };
}
