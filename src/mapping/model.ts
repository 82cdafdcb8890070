import { z } from 'zod';
import { MAX_IDENTIFIER_BYTES } from './names.js';
import { SOURCE_TYPES } from './pg-types.js';

/**
 * The mapping plan: data, not code. It is what `ferry plan` writes for review, what the
 * schema compiler turns into DDL, and what `toRows`/`toDoc` interpret. Versioned so a plan
 * written by an older Ferry is either read exactly or refused, never half-understood.
 *
 * Structure (DESIGN.md "Mapping rules"):
 * - a collection maps to a list of tables; the first is the root (one row per document),
 *   the rest are child tables, each after its parent;
 * - a table maps an *element*: the document for the root, one array element or one map
 *   entry's value for a child. A column's `path` is a key path inside that element; a path
 *   longer than one key is a flattened sub-object (`address.city` → `address_city`); the
 *   empty path `[]` maps the whole element (a child table of scalars);
 * - a child table keys on its parent's primary key plus its own ordinal: `idx` (the array
 *   position) or `key` (the map key), so nested children key on `(parent_id, parent_idx, idx)`;
 * - every table has an `_extra jsonb` catch-all for whatever the columns do not take.
 *
 * @example
 * const input: PlanInput = { version: PLAN_VERSION, collections: [] };
 */
export const PLAN_VERSION = 1;

/** The catch-all column every table has. Its name starts with `_` so no snake_cased field can take it. */
export const EXTRA_COLUMN = '_extra';

const identifier = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_IDENTIFIER_BYTES, {
    message: `longer than ${MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would truncate it (shorten it with pgIdentifier)`,
  })
  .refine((s) => !s.includes('\u0000'), { message: 'contains NUL' });

const keyPath = z.array(z.string()).readonly();

export const columnSchema = z
  .object({
    name: identifier,
    /** Key path inside the table's element; `[]` is the element itself. */
    path: keyPath,
    /** e.g. `text`, `bigint`, `numeric(38,18)`, `text[]`; see pg-types.ts. */
    pgType: z.string().min(1),
    /** The BSON type the column holds; a value of another type goes to `_extra` untouched. */
    sourceType: z.enum(SOURCE_TYPES),
    nullable: z.boolean(),
    /** A foreign key to another table's column. */
    references: z.object({ table: identifier, column: identifier }).strict().optional(),
    /** A transform registered in code (see transforms.ts), applied to values of this column. */
    transform: z.string().min(1).optional(),
    /**
     * The column's previous name, when it was renamed after a load: `ferry schema apply`
     * then renames the column in place and keeps its data, instead of dropping one column
     * and adding another.
     */
    renamedFrom: identifier.optional(),
    /**
     * The only values the column may hold (a Mongoose `enum`), as a CHECK; of each element for
     * an array column. Proposed only where every value in the data is one of them.
     */
    allowed: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .readonly()
      .optional(),
  })
  .strict();

export const parentSchema = z
  .object({
    table: identifier,
    /** Key path of the array or map inside the parent's element. */
    path: keyPath.refine((p) => p.length > 0, { message: 'a child table needs the path of its field' }),
    shape: z.enum(['array', 'map']),
    /** Columns of this table that reference the parent's primary key, in its order. */
    columns: z.array(identifier).min(1).readonly(),
    /** This table's own key column: the array index (`integer`) or the map key (`text`). */
    ordinal: identifier,
  })
  .strict();

export const discriminatorSchema = z
  .object({
    /** The field holding an id that points at one of several kinds of thing. */
    path: keyPath.refine((p) => p.length > 0, { message: 'a discriminator needs a field path' }),
    /** A sibling field naming the kind (Mongoose `refPath`); without it the id's type decides. */
    kindPath: keyPath.optional(),
    columns: z.object({ kind: identifier, id: identifier, ref: identifier }).strict(),
    kinds: z
      .array(
        z
          .object({
            name: z.string().min(1),
            /** ObjectId ids land in the `uuid` column, string ids in the `text` one. */
            idType: z.enum(['objectId', 'string']),
            /** The table the ids point at, for documentation and verification. */
            table: identifier.optional(),
          })
          .strict(),
      )
      .min(1)
      .readonly(),
  })
  .strict();

export const tableSchema = z
  .object({
    name: identifier,
    parent: parentSchema.optional(),
    columns: z.array(columnSchema).readonly(),
    discriminators: z.array(discriminatorSchema).readonly().optional(),
  })
  .strict();

/**
 * A source index as MongoDB describes it (see `IndexSpec` in sources/types.ts), kept in the
 * plan so `ferry plan` and `schema apply` can translate indexes without the source at hand.
 */
export const sourceIndexSchema = z
  .object({
    name: z.string().min(1),
    key: z.record(z.string(), z.union([z.number(), z.string()])),
    unique: z.boolean().optional(),
    sparse: z.boolean().optional(),
    partialFilterExpression: z.record(z.string(), z.unknown()).optional(),
    expireAfterSeconds: z.number().optional(),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const collectionPlanSchema = z
  .object({
    /** The source collection's name. */
    name: z.string().min(1),
    /** The root table first, then child tables, each after its parent. */
    tables: z.array(tableSchema).min(1).readonly(),
    /** The source's indexes, translated by the schema compiler (unique, partial, TTL, text, …). */
    indexes: z.array(sourceIndexSchema).readonly().optional(),
    /**
     * The collection is a ledger: rows are only ever inserted. `ferry schema apply` installs
     * triggers on every table of the collection that refuse UPDATE and DELETE (SQLSTATE
     * `FERAO`), whoever sends them; Ferry's own copier refuses to change a stored entity.
     */
    appendOnly: z.boolean().optional(),
    /**
     * Optimistic locking: the field (a dotted path of a root column, e.g. `__v`) holding the
     * entity's version. Ferry's writes refuse to replace a stored entity with an older version
     * (`ENTITY_VERSION_CONFLICT`).
     */
    version: z.string().min(1).optional(),
  })
  .strict();

export const planSchema = z
  .object({
    version: z.literal(PLAN_VERSION),
    collections: z.array(collectionPlanSchema).readonly(),
  })
  .strict();

/**
 * One column of a table: the document path it holds, its PostgreSQL type and the BSON type
 * it expects.
 *
 * @example
 * const total: ColumnPlan = { name: 'total', path: ['total'], pgType: 'numeric', sourceType: 'decimal', nullable: true };
 */
export type ColumnPlan = z.output<typeof columnSchema>;
export type ParentLink = z.output<typeof parentSchema>;
export type DiscriminatorPlan = z.output<typeof discriminatorSchema>;
/**
 * One table of a collection: the root table, or a child table (`parent`) for an array or a
 * map of sub-documents.
 *
 * @example
 * declare const plan: Plan;
 * const items = plan.collections[0]!.tables.find((t: TablePlan) => t.parent?.path.join('.') === 'items');
 */
export type TablePlan = z.output<typeof tableSchema>;
/**
 * One collection's tables, root table first.
 *
 * @example
 * declare const plan: Plan;
 * for (const collection of plan.collections) console.log(collection.name, collection.tables.length);
 */
export type CollectionPlan = z.output<typeof collectionPlanSchema>;
export type SourceIndexPlan = z.output<typeof sourceIndexSchema>;
/**
 * A validated, deeply frozen plan. Obtain one from `parsePlan`.
 *
 * @example
 * import { readFile } from 'node:fs/promises';
 * const plan: Plan = parsePlan(JSON.parse(await readFile('mapping.json', 'utf8')));
 */
export type Plan = z.output<typeof planSchema>;
/**
 * What a plan looks like before validation (a parsed JSON file, a builder's output).
 *
 * @example
 * const input: PlanInput = { version: PLAN_VERSION, collections: [] };
 * const plan = parsePlan(input);
 */
export type PlanInput = z.input<typeof planSchema>;

/** One column of a table as the DDL compiler and COPY writers see it, in table order. */
export interface PhysicalColumn {
  readonly name: string;
  readonly pgType: string;
  readonly nullable: boolean;
  readonly role: 'id' | 'parent' | 'ordinal' | 'value' | 'discriminator' | 'extra';
}

/**
 * The primary key columns of a table: `[id]` for a root, the parent's key plus the ordinal
 * for a child.
 *
 * @example
 * declare const ordersItems: TablePlan; // the child table of orders.items
 * primaryKey(ordersItems); // ['parent_id', 'idx']
 */
export function primaryKey(table: TablePlan): readonly string[] {
  if (table.parent === undefined) {
    const id = table.columns.find((c) => c.path.length === 1 && c.path[0] === '_id');
    return id ? [id.name] : [];
  }
  return [...table.parent.columns, table.parent.ordinal];
}

/**
 * Every column of a table with its PostgreSQL type, in the order Ferry creates and COPYs
 * them: parent key, ordinal, value columns, discriminator triples, `_extra`.
 *
 * @example
 * declare const plan: Plan;
 * const orders = plan.collections[0]!;
 * physicalColumns(orders, orders.tables[1]!).map((c) => c.name);
 * // ['parent_id', 'idx', 'sku', 'qty', '_extra']
 */
export function physicalColumns(collection: CollectionPlan, table: TablePlan): readonly PhysicalColumn[] {
  const out: PhysicalColumn[] = [];
  if (table.parent !== undefined) {
    const parent = collection.tables.find((t) => t.name === table.parent?.table);
    const parentKey = parent ? physicalKeyTypes(collection, parent) : [];
    table.parent.columns.forEach((name, i) => {
      out.push({ name, pgType: parentKey[i] ?? 'unknown', nullable: false, role: 'parent' });
    });
    const ordinalType = table.parent.shape === 'array' ? 'integer' : 'text';
    out.push({ name: table.parent.ordinal, pgType: ordinalType, nullable: false, role: 'ordinal' });
  }
  for (const column of table.columns) {
    const isId = table.parent === undefined && column.path.length === 1 && column.path[0] === '_id';
    out.push({
      name: column.name,
      pgType: column.pgType,
      nullable: column.nullable,
      role: isId ? 'id' : 'value',
    });
  }
  for (const d of table.discriminators ?? []) {
    out.push({ name: d.columns.kind, pgType: 'text', nullable: true, role: 'discriminator' });
    out.push({ name: d.columns.id, pgType: 'uuid', nullable: true, role: 'discriminator' });
    out.push({ name: d.columns.ref, pgType: 'text', nullable: true, role: 'discriminator' });
  }
  out.push({ name: EXTRA_COLUMN, pgType: 'jsonb', nullable: true, role: 'extra' });
  return out;
}

function physicalKeyTypes(collection: CollectionPlan, table: TablePlan): readonly string[] {
  const columns = physicalColumns(collection, table);
  return primaryKey(table).map((k) => columns.find((c) => c.name === k)?.pgType ?? 'unknown');
}

/**
 * The CHECK constraint that keeps a discriminator triple honest: all three NULL (the field
 * is missing or went to `_extra`), or a known kind with exactly the id column its kind uses.
 * Identifiers are quoted (DESIGN.md invariant 6) and kind names are SQL string literals.
 *
 * @example
 * declare const d: DiscriminatorPlan;
 * discriminatorCheck(d);
 * // ("target_kind" is null and "target_id" is null and "target_ref" is null) or
 * // ("target_kind" = 'user' and "target_id" is not null and "target_ref" is null) or …
 */
export function discriminatorCheck(d: DiscriminatorPlan): string {
  const kind = quoteIdent(d.columns.kind);
  const id = quoteIdent(d.columns.id);
  const ref = quoteIdent(d.columns.ref);
  const arms = [`(${kind} is null and ${id} is null and ${ref} is null)`];
  for (const k of d.kinds) {
    const [set, unset] = k.idType === 'objectId' ? [id, ref] : [ref, id];
    arms.push(`(${kind} = ${quoteLiteral(k.name)} and ${set} is not null and ${unset} is null)`);
  }
  return arms.join(' or ');
}

/**
 * The CHECK of a column with `allowed` values: `"status" in ('open', 'paid')` (NULL passes, as
 * in every CHECK), or `"roles" <@ array['buyer', 'seller']::text[]` for an array column.
 *
 * @example
 * allowedCheck({ name: 'status', path: ['status'], pgType: 'text', sourceType: 'string', nullable: false, allowed: ['open', 'paid'] });
 * // `"status" in ('open', 'paid')`
 */
export function allowedCheck(column: ColumnPlan): string | undefined {
  if (column.allowed === undefined) return undefined;
  const literals = column.allowed.map((v) => (typeof v === 'number' ? String(v) : quoteLiteral(v)));
  const name = quoteIdent(column.name);
  if (column.pgType.endsWith('[]')) return `${name} <@ array[${literals.join(', ')}]::${column.pgType}`;
  return `${name} in (${literals.join(', ')})`;
}

/** A PostgreSQL quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
