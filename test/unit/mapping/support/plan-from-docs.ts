import type { Document } from 'bson';
import type { PlanInput } from '../../../../src/mapping/model.js';
import { childTableName, columnName, snakeCase, uniqueName } from '../../../../src/mapping/names.js';

/**
 * A minimal, deterministic plan builder for tests: looks at sample documents and picks, per
 * field, the majority shape — a typed column, a flattened object, a child table for arrays of
 * documents and for map-shaped objects, a PostgreSQL array for scalar arrays, a discriminator
 * for fields mixing ObjectId and string ids, `jsonb` for the rest. It is not inference (that
 * lives in src/infer); it exists so the round-trip property test covers every mapping rule,
 * and documents outside the majority exercise `_extra`.
 */
type Kind =
  | 'objectId'
  | 'string'
  | 'int'
  | 'long'
  | 'double'
  | 'decimal'
  | 'bool'
  | 'date'
  | 'binData'
  | 'null'
  | 'object'
  | 'array'
  | 'other';

interface Stats {
  count: number;
  kinds: Map<Kind, number>;
  /** Per key, for object values. */
  fields: Map<string, Stats>;
  /** Keys seen per object value, to tell maps from records. */
  keyCounts: number[];
  /** Array elements, merged. */
  items: Stats | undefined;
}

function newStats(): Stats {
  return { count: 0, kinds: new Map(), fields: new Map(), keyCounts: [], items: undefined };
}

function kindOf(value: unknown): Kind {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (typeof value !== 'object') return 'other';
  const tag = (value as { _bsontype?: string })._bsontype;
  switch (tag) {
    case 'ObjectId':
      return 'objectId';
    case 'Int32':
      return 'int';
    case 'Long':
      return 'long';
    case 'Double':
      return 'double';
    case 'Decimal128':
      return 'decimal';
    case 'Binary':
      return (value as { sub_type: number }).sub_type === 0 ? 'binData' : 'other';
    case undefined:
      return 'object';
    default:
      return 'other';
  }
}

function observe(stats: Stats, value: unknown): void {
  stats.count++;
  const kind = kindOf(value);
  stats.kinds.set(kind, (stats.kinds.get(kind) ?? 0) + 1);
  if (kind === 'object') {
    const keys = Object.keys(value as Document);
    stats.keyCounts.push(keys.length);
    for (const key of keys) {
      let field = stats.fields.get(key);
      if (field === undefined) {
        field = newStats();
        stats.fields.set(key, field);
      }
      observe(field, (value as Document)[key]);
    }
  } else if (kind === 'array') {
    stats.items ??= newStats();
    for (const item of value as unknown[]) observe(stats.items, item);
  }
}

const KIND_ORDER: readonly Kind[] = [
  'objectId',
  'string',
  'int',
  'long',
  'double',
  'decimal',
  'bool',
  'date',
  'binData',
  'object',
  'array',
  'other',
  'null',
];

function majority(stats: Stats): Kind {
  let best: Kind = 'null';
  let bestCount = 0;
  for (const kind of KIND_ORDER) {
    const n = kind === 'null' ? 0 : (stats.kinds.get(kind) ?? 0);
    if (n > bestCount) {
      best = kind;
      bestCount = n;
    }
  }
  return best;
}

const SCALAR: Partial<Record<Kind, { pgType: string; sourceType: string }>> = {
  objectId: { pgType: 'uuid', sourceType: 'objectId' },
  string: { pgType: 'text', sourceType: 'string' },
  int: { pgType: 'integer', sourceType: 'int' },
  long: { pgType: 'bigint', sourceType: 'long' },
  double: { pgType: 'double precision', sourceType: 'double' },
  decimal: { pgType: 'numeric', sourceType: 'decimal' },
  bool: { pgType: 'boolean', sourceType: 'bool' },
  date: { pgType: 'timestamptz', sourceType: 'date' },
  binData: { pgType: 'bytea', sourceType: 'binData' },
};

const NUMERIC_KINDS: readonly Kind[] = ['int', 'long', 'double', 'decimal'];

type TableInput = PlanInput['collections'][number]['tables'][number];
type ColumnInput = TableInput['columns'][number];
type DiscriminatorInput = NonNullable<TableInput['discriminators']>[number];

const MAX_FLATTEN_DEPTH = 3;
const MAX_TABLE_DEPTH = 3;

/** Looks like a map: many different keys across values, or keys that vary a lot per value. */
function isMapShaped(stats: Stats): boolean {
  if (stats.fields.size < 4) return false;
  const average = stats.keyCounts.reduce((a, b) => a + b, 0) / Math.max(1, stats.keyCounts.length);
  return stats.fields.size > 12 || average < stats.fields.size * 0.5;
}

class Builder {
  readonly tables: TableInput[] = [];
  private readonly tableNames = new Set<string>();

  table(name: string, build: (t: TableInput) => void): TableInput {
    const unique = uniqueName(name, this.tableNames);
    this.tableNames.add(unique);
    const table: TableInput = { name: unique, columns: [] };
    this.tables.push(table);
    build(table);
    return table;
  }

  /** Map one element's fields (an object's stats) into `table`'s columns and child tables. */
  element(
    table: TableInput,
    stats: Stats,
    prefix: string[],
    taken: Set<string>,
    depth: number,
    level: number,
  ): void {
    for (const key of [...stats.fields.keys()].sort()) {
      if (level === 0 && prefix.length === 0 && key === '_id') continue;
      this.field(table, stats.fields.get(key)!, [...prefix, key], taken, depth, level);
    }
  }

  field(
    table: TableInput,
    stats: Stats,
    path: string[],
    taken: Set<string>,
    depth: number,
    level: number,
  ): void {
    const name = () => {
      const n = uniqueName(columnName(path), taken);
      taken.add(n);
      return n;
    };
    const kind = majority(stats);
    const numericKinds = NUMERIC_KINDS.filter((k) => (stats.kinds.get(k) ?? 0) > 0);
    if (kind === 'objectId' && (stats.kinds.get('string') ?? 0) > 0) {
      const base = name();
      const d: DiscriminatorInput = {
        path,
        columns: { kind: `${base}_kind`, id: `${base}_id`, ref: `${base}_ref` },
        kinds: [
          { name: 'object', idType: 'objectId' },
          { name: 'named', idType: 'string' },
        ],
      };
      for (const c of Object.values(d.columns)) taken.add(c);
      (table.discriminators as DiscriminatorInput[] | undefined) ??= [];
      (table.discriminators as DiscriminatorInput[]).push(d);
      return;
    }
    if (NUMERIC_KINDS.includes(kind) && numericKinds.length > 1) {
      const pgType =
        numericKinds.includes('double') && !numericKinds.includes('decimal') ? 'double precision' : 'numeric';
      (table.columns as ColumnInput[]).push({
        name: name(),
        path,
        pgType,
        sourceType: 'number',
        nullable: true,
      });
      return;
    }
    const scalar = SCALAR[kind];
    if (scalar !== undefined) {
      (table.columns as ColumnInput[]).push({
        name: name(),
        path,
        pgType: scalar.pgType,
        sourceType: scalar.sourceType as ColumnInput['sourceType'],
        nullable: true,
      });
      return;
    }
    if (kind === 'object' && isMapShaped(stats) && level < MAX_TABLE_DEPTH) {
      const merged = newStats();
      for (const f of stats.fields.values()) mergeInto(merged, f);
      this.child(table, path, 'map', merged, level);
      return;
    }
    if (kind === 'object' && depth < MAX_FLATTEN_DEPTH) {
      this.element(table, stats, path, taken, depth + 1, level);
      return;
    }
    if (kind === 'array' && stats.items !== undefined && level < MAX_TABLE_DEPTH) {
      const itemKind = majority(stats.items);
      const itemScalar = SCALAR[itemKind];
      if (itemKind === 'object') {
        this.child(table, path, 'array', stats.items, level);
        return;
      }
      if (itemScalar !== undefined) {
        (table.columns as ColumnInput[]).push({
          name: name(),
          path,
          pgType: `${itemScalar.pgType}[]`,
          sourceType: itemScalar.sourceType as ColumnInput['sourceType'],
          nullable: true,
        });
        return;
      }
    }
    const sourceType = kind === 'object' ? 'object' : kind === 'array' ? 'array' : 'any';
    (table.columns as ColumnInput[]).push({
      name: name(),
      path,
      pgType: 'jsonb',
      sourceType,
      nullable: true,
    });
  }

  child(parent: TableInput, path: string[], shape: 'array' | 'map', items: Stats, level: number): void {
    const parentColumns =
      parent.parent === undefined
        ? ['parent_id']
        : [...parent.parent.columns, `parent_${snakeCase(parent.parent.ordinal)}_${level}`];
    this.table(childTableName(parent.name, path), (t) => {
      const ordinal = shape === 'array' ? 'idx' : 'key';
      (t as { parent?: unknown }).parent = {
        table: parent.name,
        path,
        shape,
        columns: parentColumns,
        ordinal,
      };
      const taken = new Set<string>([...parentColumns, ordinal, '_extra']);
      const kind = majority(items);
      if (kind === 'object') this.element(t, items, [], taken, 0, level + 1);
      else this.field(t, items, [], taken, MAX_FLATTEN_DEPTH, MAX_TABLE_DEPTH);
    });
  }
}

function mergeInto(target: Stats, source: Stats): void {
  target.count += source.count;
  for (const [k, n] of source.kinds) target.kinds.set(k, (target.kinds.get(k) ?? 0) + n);
  target.keyCounts.push(...source.keyCounts);
  for (const [key, f] of source.fields) {
    let t = target.fields.get(key);
    if (t === undefined) {
      t = newStats();
      target.fields.set(key, t);
    }
    mergeInto(t, f);
  }
  if (source.items !== undefined) {
    target.items ??= newStats();
    mergeInto(target.items, source.items);
  }
}

/**
 * A plan for the given collections, built from sample documents of each.
 *
 * @example
 * const plan = parsePlan(planFromDocs(new Map([['users', sampleUsers]])));
 */
export function planFromDocs(samples: ReadonlyMap<string, readonly Document[]>): PlanInput {
  const collections: PlanInput['collections'][number][] = [];
  const used = new Set<string>();
  for (const [collection, docs] of [...samples].sort(([a], [b]) => a.localeCompare(b))) {
    const stats = newStats();
    for (const doc of docs) observe(stats, doc);
    const builder = new Builder();
    const rootName = uniqueName(snakeCase(collection), used);
    builder.table(rootName, (t) => {
      const idStats = stats.fields.get('_id') ?? newStats();
      const idKind = majority(idStats);
      // Mixed _id types (evt_1, 42, an ObjectId) share one jsonb key; one type keeps its natural one.
      const single = idStats.kinds.size === 1 && ['objectId', 'string', 'int', 'long'].includes(idKind);
      const scalar = single ? SCALAR[idKind] : undefined;
      (t.columns as ColumnInput[]).push({
        name: 'id',
        path: ['_id'],
        pgType: scalar?.pgType ?? 'jsonb',
        sourceType: (scalar?.sourceType ?? 'any') as ColumnInput['sourceType'],
        nullable: false,
      });
      builder.element(t, stats, [], new Set(['id', '_extra']), 0, 0);
    });
    for (const t of builder.tables) used.add(t.name);
    collections.push({ name: collection, tables: builder.tables });
  }
  return { version: 1, collections };
}
