import { escapeLiteral } from 'pg';
import { arrayLiteral } from '../copy/copy-text.js';
import { compiledCollection } from '../mapping/compile.js';
import { type Plan, physicalColumns, primaryKey, quoteIdent } from '../mapping/model.js';
import type { RowValue, RowValues } from '../mapping/row-values.js';
import type { Queryable } from '../target/target-database.js';
import type { Entity } from './entity-copy.js';
import type { LockedTransaction } from './stores.js';

/**
 * The SQL side of the entity copier: a few entities' rows replaced in place. Plain
 * parameterised statements, not COPY: the write path copies one or a few entities at a time,
 * where one round trip per table is what counts, and COPY's staging would triple it.
 */

/** One table of a collection as the copier writes it. */
export interface EntityTable {
  readonly name: string;
  /** `"schema"."table"`. */
  readonly qualified: string;
  readonly columns: readonly string[];
  /** The PostgreSQL type of each column, for the parameters' casts. */
  readonly types: readonly string[];
  readonly key: readonly string[];
  /** For a child: the column holding the root's id (every child's first parent column does). */
  readonly rootColumn: string | undefined;
  /** For a child: its parent is the root table. */
  readonly underRoot: boolean;
}

/** A collection's tables in plan order (root first), with the root id's type. */
export interface EntityTables {
  readonly root: EntityTable;
  readonly children: readonly EntityTable[];
  readonly rootIdType: string;
}

/** PostgreSQL takes at most 65535 parameters per statement. */
const MAX_PARAMETERS = 60_000;

const cache = new WeakMap<Plan, Map<string, EntityTables>>();

/**
 * The tables of `collection` in `schema`, from the plan (the one mapping), cached per plan.
 *
 * @example
 * declare const plan: Plan;
 * entityTables(plan, 'orders', 'public').children.map((t) => t.name)   // ['orders_items']
 */
export function entityTables(plan: Plan, collection: string, schema: string): EntityTables {
  let bySchema = cache.get(plan);
  if (bySchema === undefined) {
    bySchema = new Map();
    cache.set(plan, bySchema);
  }
  const cacheKey = `${schema}\u0000${collection}`;
  const cached = bySchema.get(cacheKey);
  if (cached !== undefined) return cached;
  const compiled = compiledCollection(plan, collection);
  const collectionPlan = plan.collections.find((c) => c.name === collection)!;
  const rootName = compiled.root.name;
  const tables = collectionPlan.tables.map((table): EntityTable => {
    const columns = physicalColumns(collectionPlan, table);
    return {
      name: table.name,
      qualified: `${quoteIdent(schema)}.${quoteIdent(table.name)}`,
      columns: columns.map((c) => c.name),
      types: columns.map((c) => c.pgType),
      key: primaryKey(table),
      rootColumn: table.parent?.columns[0],
      underRoot: table.parent?.table === rootName,
    };
  });
  const root = tables[0]!;
  const rootIdType = root.types[root.columns.indexOf(root.key[0]!)]!;
  const built = { root, children: tables.slice(1), rootIdType };
  bySchema.set(cacheKey, built);
  return built;
}

/**
 * One data-modifying statement whose parameters are referred to through `ref(i)`: as `$n`
 * numbered after the statements before it, so several can be packed into one round trip as
 * the CTEs of a single statement, or as quoted literals (`sqlLiteral`), so the statements
 * can go in one simple-protocol message with the COMMIT.
 */
export interface SqlPiece {
  readonly params: readonly unknown[];
  render(ref: (index: number) => string): string;
}

/** What `entityStatements` plans: in this order, and the one whose returned keys are the deletions. */
interface EntityStatements {
  /** The written entities' child rows (nested children cascade). */
  readonly childDeletes: readonly SqlPiece[];
  /** The root rows of gone and rejected entities, `returning` their keys as `key`. */
  readonly removal: SqlPiece | undefined;
  /** The root upserts, the child inserts (parents first), then `also`. */
  readonly inserts: readonly SqlPiece[];
  /** Keys of the `gone` entities, as text, to count which removals deleted something. */
  readonly gone: ReadonlySet<string>;
}

function entityStatements(
  tables: EntityTables,
  entities: readonly Entity[],
  also: readonly SqlPiece[],
): EntityStatements {
  const writes = entities.filter((e) => e.kind === 'write');
  const removals = entities.filter((e) => e.kind !== 'write' && e.key !== undefined);
  const idArray = `${tables.rootIdType}[]`;
  const keys = writes.map((e) => e.key);
  const childDeletes =
    writes.length === 0
      ? []
      : tables.children
          .filter((child) => child.underRoot)
          .map((child) => ({
            params: [keys],
            render: (ref: (i: number) => string) =>
              `delete from ${child.qualified} where ${quoteIdent(child.rootColumn!)} = any(${ref(0)}::${idArray})`,
          }));
  const rootKey = quoteIdent(tables.root.key[0]!);
  const removal =
    removals.length === 0
      ? undefined
      : {
          params: [removals.map((e) => e.key)],
          render: (ref: (i: number) => string) =>
            `delete from ${tables.root.qualified} where ${rootKey} = any(${ref(0)}::${idArray}) returning ${rootKey} as key`,
        };
  const rowsOf = (table: EntityTable) => writes.flatMap((e) => e.rows.get(table.name) ?? []);
  const inserts = [
    ...insertPieces(tables.root, rowsOf(tables.root), true),
    ...tables.children.flatMap((child) => insertPieces(child, rowsOf(child), false)),
    ...also,
  ];
  const gone = new Set(removals.filter((e) => e.kind === 'gone').map((e) => String(e.key)));
  return { childDeletes, removal, inserts, gone };
}

/** How many of the removed root rows belonged to `gone` entities. */
function countGone(rows: readonly Record<string, unknown>[], gone: ReadonlySet<string>): number {
  return rows.filter((r) => gone.has(String(r.key as RowValue))).length;
}

/**
 * Bring the rows of `entities` to what they decided, inside the caller's transaction:
 * - `write`: the child rows go (deleting the root's direct children cascades to theirs),
 *   the root row is upserted, the new child rows are inserted, parents first;
 * - `gone` and `reject`: the root row goes, and its children with it.
 * `also` runs with the inserts (the copier resolves older rejects there). Returns how many
 * `gone` entities had a row to delete.
 *
 * Round trips are what a mirrored write pays for, so the statements are packed: all child
 * deletes in one statement, the root upsert and every child insert in another (as CTEs of one
 * statement: foreign keys are checked at its end, when the parent rows are there).
 *
 * @example
 * declare const tx: TargetTransaction;
 * declare const plan: Plan;
 * declare const entities: readonly Entity[];
 * const deleted = await writeEntityRows(tx, entityTables(plan, 'orders', 'public'), entities);
 */
export async function writeEntityRows(
  tx: Queryable,
  tables: EntityTables,
  entities: readonly Entity[],
  also: readonly SqlPiece[] = [],
): Promise<number> {
  const planned = entityStatements(tables, entities, also);
  await runPacked(tx, planned.childDeletes);
  let deleted = 0;
  if (planned.removal !== undefined) {
    const { removal } = planned;
    const { rows } = await tx.query(
      removal.render((i) => `$${i + 1}`),
      removal.params,
    );
    deleted = countGone(rows, planned.gone);
  }
  await runPacked(tx, planned.inserts);
  return deleted;
}

/**
 * `writeEntityRows` and the COMMIT in one round trip (`tx.finish`), the usual end of a
 * mirrored write: two round trips fewer than the parameterised statements and a separate
 * COMMIT. The values go into the text as literals (`sqlLiteral`: each is quoted by the pg
 * driver's own `escapeLiteral` and cast to its column's type, as the parameters were); when
 * one cannot be a literal (a string with a NUL, which PostgreSQL text cannot hold, so the
 * parameterised path must report it as it always did), nothing is sent and `undefined` is
 * returned: the caller then uses `writeEntityRows` and commits as usual.
 *
 * @example
 * declare const tx: LockedTransaction;
 * declare const tables: EntityTables;
 * declare const entities: readonly Entity[];
 * const deleted = (await writeEntityRowsAndCommit(tx, tables, entities)) ?? (await writeEntityRows(tx, tables, entities));
 */
export async function writeEntityRowsAndCommit(
  tx: LockedTransaction,
  tables: EntityTables,
  entities: readonly Entity[],
  also: readonly SqlPiece[] = [],
): Promise<number | undefined> {
  const planned = entityStatements(tables, entities, also);
  const texts: string[] = [];
  const inline = (piece: SqlPiece): boolean => {
    const literals = piece.params.map(sqlLiteral);
    if (literals.some((l) => l === undefined)) return false;
    texts.push(piece.render((i) => literals[i]!));
    return true;
  };
  if (!planned.childDeletes.every(inline)) return undefined;
  const removalAt = texts.length;
  if (planned.removal !== undefined && !inline(planned.removal)) return undefined;
  if (!planned.inserts.every(inline)) return undefined;
  const results = await tx.finish(texts);
  return planned.removal === undefined ? 0 : countGone(results[removalAt]!.rows, planned.gone);
}

/**
 * A row value (or an array of them) as a quoted SQL literal, in the text form the pg driver
 * sends for it as a parameter; `undefined` for what a literal cannot carry (a NUL character)
 * or what is not a row value.
 */
function sqlLiteral(value: unknown): string | undefined {
  if (value === null) return 'NULL';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else if (Buffer.isBuffer(value)) text = `\\x${value.toString('hex')}`;
  else if (Array.isArray(value)) text = arrayLiteral(value as RowValue[]);
  else return undefined;
  return text.includes('\u0000') ? undefined : escapeLiteral(text);
}

/** Run pieces in order, as few statements as the parameter limit allows. */
async function runPacked(tx: Queryable, pieces: readonly SqlPiece[]): Promise<void> {
  let start = 0;
  while (start < pieces.length) {
    let end = start;
    let count = 0;
    while (end < pieces.length && (end === start || count + pieces[end]!.params.length <= MAX_PARAMETERS)) {
      count += pieces[end]!.params.length;
      end++;
    }
    const batch = pieces.slice(start, end);
    const params: unknown[] = [];
    const texts = batch.map((piece) => {
      const offset = params.length;
      params.push(...piece.params);
      return piece.render((i) => `$${offset + i + 1}`);
    });
    const sql =
      texts.length === 1 ? texts[0]! : `with ${texts.map((t, i) => `p${i} as (${t})`).join(', ')} select 1`;
    await tx.query(sql, params);
    start = end;
  }
}

/**
 * Multi-row `insert … values` pieces, each value cast to its column's type (so array and
 * numeric text arrive as what the column holds); `upsert` overwrites a row with the same key.
 */
function insertPieces(table: EntityTable, rows: readonly RowValues[], upsert: boolean): SqlPiece[] {
  if (rows.length === 0) return [];
  const columns = table.columns.map(quoteIdent).join(', ');
  const conflict = upsert
    ? ` on conflict (${table.key.map(quoteIdent).join(', ')}) do update set ${table.columns
        .filter((c) => !table.key.includes(c))
        .map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`)
        .join(', ')}`
    : '';
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / table.columns.length));
  const pieces: SqlPiece[] = [];
  for (let from = 0; from < rows.length; from += perStatement) {
    const slice = rows.slice(from, from + perStatement);
    const params = slice.flatMap((row) => table.columns.map((column) => row[column] ?? null));
    pieces.push({
      params,
      render: (ref) => {
        let n = 0;
        const tuples = slice.map(() => `(${table.types.map((type) => `${ref(n++)}::${type}`).join(', ')})`);
        return `insert into ${table.qualified} (${columns}) values ${tuples.join(', ')}${conflict}`;
      },
    });
  }
  return pieces;
}
