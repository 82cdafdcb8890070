import { compiledCollection } from '../mapping/compile.js';
import { type Plan, physicalColumns, primaryKey, quoteIdent } from '../mapping/model.js';
import type { RowValue, RowValues } from '../mapping/row-values.js';
import type { Queryable } from '../target/target-database.js';
import type { Entity } from './entity-copy.js';

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
 * One data-modifying statement whose parameters are numbered from `offset + 1`, so several can
 * be packed into one round trip as the CTEs of a single statement.
 */
export interface SqlPiece {
  readonly params: readonly unknown[];
  render(offset: number): string;
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
  const writes = entities.filter((e) => e.kind === 'write');
  const removals = entities.filter((e) => e.kind !== 'write' && e.key !== undefined);
  const idArray = `${tables.rootIdType}[]`;
  if (writes.length > 0) {
    const keys = writes.map((e) => e.key);
    await runPacked(
      tx,
      tables.children
        .filter((child) => child.underRoot)
        .map((child) => ({
          params: [keys],
          render: (o: number) =>
            `delete from ${child.qualified} where ${quoteIdent(child.rootColumn!)} = any($${o + 1}::${idArray})`,
        })),
    );
  }
  let deleted = 0;
  if (removals.length > 0) {
    const rootKey = quoteIdent(tables.root.key[0]!);
    const { rows } = await tx.query<{ key: RowValue }>(
      `delete from ${tables.root.qualified} where ${rootKey} = any($1::${idArray}) returning ${rootKey} as key`,
      [removals.map((e) => e.key)],
    );
    const gone = new Set(removals.filter((e) => e.kind === 'gone').map((e) => String(e.key)));
    deleted = rows.filter((r) => gone.has(String(r.key))).length;
  }
  const rowsOf = (table: EntityTable) => writes.flatMap((e) => e.rows.get(table.name) ?? []);
  await runPacked(tx, [
    ...insertPieces(tables.root, rowsOf(tables.root), true),
    ...tables.children.flatMap((child) => insertPieces(child, rowsOf(child), false)),
    ...also,
  ]);
  return deleted;
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
      const text = piece.render(params.length);
      params.push(...piece.params);
      return text;
    });
    const sql =
      texts.length === 1 ? texts[0]! : `with ${texts.map((t, i) => `p${i} as (${t})`).join(', ')} select 1`;
    await tx.query(sql, params);
    start = end;
  }
}

/**
 * Multi-row `insert … values` pieces, each parameter cast to its column's type (so array and
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
      render: (offset) => {
        let n = offset;
        const tuples = slice.map(() => `(${table.types.map((type) => `$${++n}::${type}`).join(', ')})`);
        return `insert into ${table.qualified} (${columns}) values ${tuples.join(', ')}${conflict}`;
      },
    });
  }
  return pieces;
}
