import type { Document } from 'bson';
import { FerryError } from '../core/errors.js';
import { decodeColumn, encodeColumn, MISMATCH } from '../mapping/column-codec.js';
import { compiledCollection } from '../mapping/compile.js';
import { type CollectionPlan, type Plan, physicalColumns, primaryKey, quoteIdent } from '../mapping/model.js';
import { RejectSignal } from '../mapping/reject.js';
import type { DocumentRows, RowValue, RowValues } from '../mapping/row-values.js';
import { toDoc } from '../mapping/to-doc.js';
import type { Queryable } from '../target/target-database.js';
import { damagedPath } from './damaged-rows.js';

/**
 * One document as the target holds it: rebuilt by `toDoc` (the one inverse), or, when its
 * rows cannot be rebuilt, the path of the damaged field instead.
 */
export interface TargetDocument {
  /** The `_id`, decoded from the root row's id column. */
  readonly id: unknown;
  /** The root row's primary key value, to fetch the document again. */
  readonly key: RowValue;
  readonly doc?: Document;
  /** Set when `toDoc` refused the rows: the field whose rows are damaged. */
  readonly damaged?: string;
}

/** Where the collection's tables live. */
export interface TargetLocation {
  readonly plan: Plan;
  readonly collection: string;
  readonly schema: string;
}

/**
 * Which documents of a collection to read, by root primary key: those after `after` and up to
 * `until` (inclusive), each unbounded when absent. A bound is a key as the reader met it, or
 * its text (`pk::text`, as `keyRangeBounds` gives), which PostgreSQL reads back as the key's
 * type.
 */
export interface KeyRange {
  readonly after?: RowValue;
  readonly until?: RowValue;
}

/**
 * Stream every document of a collection from the target (or those of a key range),
 * `batchSize` root rows at a time in primary-key order (keyset pagination, so each query is an index range scan), with the
 * children of each batch fetched in one query per child table. Memory: one batch.
 *
 * Every child table's first parent column holds the root's id (a child keys on its parent's
 * primary key, whose first column is, by induction, the root id), so one range over that
 * column fetches a batch's children at every depth.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * for await (const docs of readTargetDocuments(db, { plan, collection: 'orders', schema: 'public' }))
 *   for (const d of docs) console.log(d.id, d.doc);
 */
export async function* readTargetDocuments(
  db: Queryable,
  where: TargetLocation,
  options: { batchSize?: number; signal?: AbortSignal } & KeyRange = {},
): AsyncIterable<TargetDocument[]> {
  for await (const page of readTargetRows(db, where, options))
    yield page.map((rows) => rebuildTargetDocument(where, rows));
}

/** One document's rows as the target holds them, not yet rebuilt. */
export interface TargetRows {
  /** The root row's primary key value. */
  readonly key: RowValue;
  /** The root row and the document's rows in every child table, by table name. */
  readonly rows: DocumentRows;
}

/**
 * `readTargetDocuments` without the rebuilding: each document's rows, for a reader that
 * turns rows into something else directly (the export writes BSON from them) and rebuilds
 * through `rebuildTargetDocument` only what it cannot.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const where: TargetLocation;
 * for await (const page of readTargetRows(db, where, { batchSize: 500 }))
 *   for (const item of page) console.log(rebuildTargetDocument(where, item).doc);
 */
export async function* readTargetRows(
  db: Queryable,
  where: TargetLocation,
  options: { batchSize?: number; signal?: AbortSignal } & KeyRange = {},
): AsyncIterable<TargetRows[]> {
  const shape = tableShape(where);
  const limit = options.batchSize ?? 1000;
  // One page ahead: the next page's queries run while this page is rebuilt and hashed, so
  // the database's work and the round trips overlap the CPU work here. Memory: two pages.
  const fetchPage = async (after: RowValue | undefined): Promise<Page | undefined> => {
    options.signal?.throwIfAborted();
    const params: RowValue[] = [];
    const bounds: string[] = [];
    if (after !== undefined) bounds.push(`${shape.pk} > $${params.push(after)}`);
    if (options.until !== undefined) bounds.push(`${shape.pk} <= $${params.push(options.until)}`);
    const { rows } = await db.query<RowValues>(
      `select ${shape.rootColumns} from ${shape.rootTable}${bounds.length === 0 ? '' : ` where ${bounds.join(' and ')}`} order by ${shape.pk} limit ${limit}`,
      params,
    );
    if (rows.length === 0) return undefined;
    const first = rows[0]![shape.pkName]!;
    const last = rows[rows.length - 1]![shape.pkName]!;
    return { rows, last, children: await childRows(db, shape, `between $1 and $2`, [first, last]) };
  };
  // `after`: continue past a key already handed over (an export resumed from its checkpoint).
  let pending: Promise<Page | undefined> | undefined = fetchPage(options.after);
  try {
    while (pending !== undefined) {
      const page = await pending;
      pending = undefined;
      if (page === undefined) return;
      if (page.rows.length === limit) pending = fetchPage(page.last);
      yield documentRows(shape, page.rows, page.children);
    }
  } finally {
    // The consumer stopped early (or failed): the page fetched ahead is not wanted, and its
    // failure must not surface as an unhandled rejection.
    pending?.catch(() => undefined);
  }
}

/**
 * Keys that cut a collection's `rows` root rows (its count, which the caller has) into `parts`
 * ranges of about equal size, for
 * readers on several connections to share one collection: `parts - 1` keys in order, as text
 * (`pk::text`, which survives a thread boundary whatever the key's type), fewer when the rows
 * are too few to cut. Ranges are (-∞, b1], (b1, b2], …, (bn, ∞): together they hold every
 * row, each once, even while rows are written, since a bound is a fixed key.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const where: TargetLocation;
 * const bounds = await keyRangeBounds(db, where, 3000, 2, 1000);   // ['65a1…'] or [] below 2 pages
 * const ranges = keyRanges(bounds);   // [{ until: '65a1…' }, { after: '65a1…' }]
 */
export async function keyRangeBounds(
  db: Queryable,
  where: TargetLocation,
  count: number,
  parts: number,
  minimumPerPart: number,
): Promise<string[]> {
  const shape = tableShape(where);
  const cuts = Math.min(parts, Math.floor(count / Math.max(1, minimumPerPart)));
  const bounds: string[] = [];
  for (let i = 1; i < cuts; i++) {
    const { rows: at } = await db.query<{ k: string }>(
      `select ${shape.pk}::text as k from ${shape.rootTable} order by ${shape.pk} offset $1 limit 1`,
      [Math.floor((count * i) / cuts) - 1],
    );
    const key = at[0]?.k;
    // Rows deleted since the count can leave a cut past the end, or on the key before it.
    if (key !== undefined && key !== bounds[bounds.length - 1]) bounds.push(key);
  }
  return bounds;
}

/** The ranges `keyRangeBounds`'s keys cut: one more than the keys. */
export function keyRanges(bounds: readonly string[]): { readonly after?: string; readonly until?: string }[] {
  return Array.from({ length: bounds.length + 1 }, (_, i) => ({
    ...(i > 0 && { after: bounds[i - 1]! }),
    ...(i < bounds.length && { until: bounds[i]! }),
  }));
}

interface Page {
  readonly rows: readonly RowValues[];
  readonly last: RowValue;
  readonly children: Map<string, Map<string, RowValues[]>>;
}

/**
 * Fetch documents by their root primary key values (from `TargetDocument.key`), e.g. to
 * diff the few documents whose hashes differ. Keys not found are simply absent.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const where: TargetLocation;
 * declare const key: string;
 * const [doc] = await fetchTargetDocuments(db, where, [key]);
 */
export async function fetchTargetDocuments(
  db: Queryable,
  where: TargetLocation,
  keys: readonly RowValue[],
): Promise<TargetDocument[]> {
  if (keys.length === 0) return [];
  const shape = tableShape(where);
  const { rows } = await db.query<RowValues>(
    `select ${shape.rootColumns} from ${shape.rootTable} where ${shape.pk} = any($1)`,
    [keys],
  );
  const children = await childRows(db, shape, '= any($1)', [keys]);
  return assemble(where, shape, rows, children);
}

/**
 * Fetch documents by their `_id`s: each id is encoded as its root row's key (an ObjectId as
 * its UUID), then fetched as `fetchTargetDocuments` does. Ids no row can hold, and ids not
 * found, are simply absent.
 *
 * @example
 * import { ObjectId } from 'bson';
 * declare const db: TargetDatabase;
 * declare const where: TargetLocation;
 * const [doc] = await fetchTargetDocumentsById(db, where, [new ObjectId('5bd761dcae323e45a93ccfe8')]);
 */
export async function fetchTargetDocumentsById(
  db: Queryable,
  where: TargetLocation,
  ids: readonly unknown[],
): Promise<TargetDocument[]> {
  const idCodec = compiledCollection(where.plan, where.collection).root.id!;
  const keys: RowValue[] = [];
  for (const id of ids) {
    try {
      const key = encodeColumn(idCodec, id, ['_id']);
      if (key !== MISMATCH && key !== null) keys.push(key);
    } catch (error) {
      if (!(error instanceof RejectSignal)) throw error;
    }
  }
  return fetchTargetDocuments(db, where, keys);
}

interface TableShape {
  readonly collection: CollectionPlan;
  readonly rootTable: string;
  readonly rootColumns: string;
  readonly pkName: string;
  readonly pk: string;
  readonly children: readonly { name: string; sql: string; rootColumn: string }[];
}

function tableShape(where: TargetLocation): TableShape {
  const collection = where.plan.collections.find((c) => c.name === where.collection);
  if (collection === undefined) throw new Error(`the plan has no collection ${where.collection}`);
  const [root, ...rest] = collection.tables;
  const pkName = primaryKey(root!)[0]!;
  const qualified = (name: string) => `${quoteIdent(where.schema)}.${quoteIdent(name)}`;
  const columns = (t: typeof root) =>
    physicalColumns(collection, t!)
      .map((c) => quoteIdent(c.name))
      .join(', ');
  return {
    collection,
    rootTable: qualified(root!.name),
    rootColumns: columns(root),
    pkName,
    pk: quoteIdent(pkName),
    children: rest.map((t) => ({
      name: t.name,
      rootColumn: t.parent!.columns[0]!,
      sql: `select ${columns(t)} from ${qualified(t.name)} where ${quoteIdent(t.parent!.columns[0]!)} `,
    })),
  };
}

async function childRows(
  db: Queryable,
  shape: TableShape,
  condition: string,
  params: readonly unknown[],
): Promise<Map<string, Map<string, RowValues[]>>> {
  const out = new Map<string, Map<string, RowValues[]>>();
  const query = (child: TableShape['children'][number]) => db.query<RowValues>(child.sql + condition, params);
  // All child tables at once where the queries can run on separate connections (a pool);
  // one at a time on a single connection (a transaction, a session), where a second query
  // would only queue behind the first, and pg 9 refuses it outright.
  const results = handsOutConnections(db)
    ? await Promise.all(shape.children.map(query))
    : await sequentially(shape.children, query);
  for (const [i, child] of shape.children.entries()) {
    const { rows } = results[i]!;
    const byRoot = new Map<string, RowValues[]>();
    for (const row of rows) {
      const k = keyText(row[child.rootColumn]!);
      const list = byRoot.get(k);
      if (list === undefined) byRoot.set(k, [row]);
      else list.push(row);
    }
    out.set(child.name, byRoot);
  }
  return out;
}

/**
 * Whether `db` spreads queries over connections of its own (a `TargetDatabase`, which can
 * `acquire` one), rather than being one connection (a `TargetTransaction` or `TargetSession`).
 */
function handsOutConnections(db: Queryable): boolean {
  return 'acquire' in db;
}

async function sequentially<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await run(item));
  return out;
}

function assemble(
  where: TargetLocation,
  shape: TableShape,
  roots: readonly RowValues[],
  children: Map<string, Map<string, RowValues[]>>,
): TargetDocument[] {
  return documentRows(shape, roots, children).map((rows) => rebuildTargetDocument(where, rows));
}

function documentRows(
  shape: TableShape,
  roots: readonly RowValues[],
  children: Map<string, Map<string, RowValues[]>>,
): TargetRows[] {
  const rootName = shape.collection.tables[0]!.name;
  return roots.map((row) => {
    const key = row[shape.pkName]!;
    const k = keyText(key);
    const rows = new Map<string, readonly RowValues[]>([[rootName, [row]]]);
    for (const child of shape.children) rows.set(child.name, children.get(child.name)?.get(k) ?? NO_ROWS);
    return { key, rows };
  });
}

const NO_ROWS: readonly RowValues[] = [];

/**
 * One document's rows rebuilt through `toDoc`, or, when they do not rebuild, the path of the
 * damaged field (and the `_id` from the key where it decodes).
 *
 * @example
 * declare const where: TargetLocation;
 * declare const item: TargetRows;
 * const target = rebuildTargetDocument(where, item);
 * if (target.doc === undefined) console.log('damaged:', target.damaged);
 */
export function rebuildTargetDocument(where: TargetLocation, { key, rows }: TargetRows): TargetDocument {
  // The usual case first: the rebuilt document carries the decoded `_id`, so the id column
  // is decoded once, by toDoc.
  let doc: Document | undefined;
  try {
    doc = toDoc(where.plan, where.collection, rows);
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
  }
  let id: unknown = doc?._id;
  if (doc === undefined || id === undefined) {
    try {
      id = decodeColumn(compiledCollection(where.plan, where.collection).root.id!, key);
    } catch (error) {
      // A row Ferry did not write (a v4 uuid an application inserted): it can match no
      // source document, so it stands for itself, by its key.
      if (!(error instanceof FerryError)) throw error;
      return { id: key, key, damaged: '_id' };
    }
  }
  if (doc !== undefined) return { id, key, doc };
  const collection = where.plan.collections.find((c) => c.name === where.collection)!;
  return { id, key, damaged: damagedPath(collection, rows) };
}

function keyText(value: RowValue): string {
  return Buffer.isBuffer(value) ? value.toString('hex') : String(value);
}
