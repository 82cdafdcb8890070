import { DATE_PRECISION, parsePgType } from '../../mapping/pg-types.js';
import type { ColumnDef, IndexDef, SchemaModel, TableDef } from '../schema-model.js';
import { IdentifierPool, pascalCase } from './code-names.js';
import { type OrmExportOptions, ormHeader, tableComment, untranslatedNotes } from './export-notes.js';
import { ormRelations } from './orm-relations.js';

/** Names Prisma keeps for itself or for its scalar types; no model may take them. */
// biome-ignore format: a word list reads better packed
const PRISMA_RESERVED = [
  'String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes',
  'Unsupported', 'Prisma', 'PrismaClient', 'Model', 'Query',
];

/**
 * The schema as a Prisma schema: one model per table with `@map`/`@@map` to the plan's
 * names, `@db.*` native types, primary keys, unique and plain indexes, and relations on both
 * sides (named after their foreign key, with its on-delete rule). What Prisma cannot express
 * (partial and expression indexes, CHECKs, NULLS NOT DISTINCT, TTL cleanup) is written as
 * a comment on the model instead of being left out silently. Pure and deterministic.
 *
 * @example
 * import { writeFile } from 'node:fs/promises';
 * declare const plan: Plan;
 * await writeFile('prisma/schema.prisma', exportPrisma(buildSchema(plan), { schema: 'public' }));
 */
export function exportPrisma(model: SchemaModel, options: OrmExportOptions): string {
  const modelNames = new IdentifierPool(PRISMA_RESERVED);
  const names = new Map(model.tables.map((t) => [t.name, modelNames.claim(pascalCase(t.name, 'Model'))]));
  const fieldPools = new Map(model.tables.map((t) => [t.name, new IdentifierPool()]));
  const fields = new Map(
    model.tables.map((t) => {
      const pool = fieldPools.get(t.name) as IdentifierPool;
      return [t.name, new Map(t.columns.map((c) => [c.name, pool.take(c.name, 'field')]))];
    }),
  );
  const field = (table: string, column: string) => fields.get(table)?.get(column) ?? column;
  const modelName = (table: string) => names.get(table) ?? table;

  const relationLines = new Map<string, string[]>(model.tables.map((t) => [t.name, []]));
  for (const relation of ormRelations(model)) {
    const fk = relation.foreignKey;
    const owner = model.tables.find((t) => t.name === fk.table);
    if (owner === undefined) continue;
    const optional = fk.columns.some((c) => owner.columns.find((d) => d.name === c)?.nullable !== false);
    const one = fieldPools.get(fk.table)?.claim(relation.oneName) ?? relation.oneName;
    const many = fieldPools.get(fk.refTable)?.claim(relation.manyName) ?? relation.manyName;
    const own = fk.columns.map((c) => field(fk.table, c)).join(', ');
    const theirs = fk.refColumns.map((c) => field(fk.refTable, c)).join(', ');
    const onDelete = fk.onDelete === 'cascade' ? 'Cascade' : 'NoAction';
    relationLines
      .get(fk.table)
      ?.push(
        `  ${one} ${modelName(fk.refTable)}${optional ? '?' : ''} @relation(${str(fk.name)}, fields: [${own}], references: [${theirs}], onDelete: ${onDelete}, onUpdate: NoAction, map: ${str(fk.name)})`,
      );
    // Keys that are unique in the owner make a one-to-one relation, which Prisma wants singular.
    const back = isUniqueIn(model, owner, fk.columns)
      ? `${modelName(fk.table)}?`
      : `${modelName(fk.table)}[]`;
    relationLines.get(fk.refTable)?.push(`  ${many} ${back} @relation(${str(fk.name)})`);
  }

  const blocks = model.tables.map((table) => {
    const col = (c: string) => field(table.name, c);
    const notes: string[] = [];
    const single = table.primaryKey.columns.length === 1 ? table.primaryKey.columns[0] : undefined;
    const lines = table.columns.map((c) => {
      const { type, attributes, note } = scalarField(c);
      if (note !== undefined) notes.push(`${c.name}: ${note}`);
      const id = c.name === single ? ` @id(map: ${str(table.primaryKey.name)})` : '';
      const map = col(c.name) === c.name ? '' : ` @map(${str(c.name)})`;
      return `  ${col(c.name)} ${type}${id}${attributes}${map}`;
    });
    lines.push(...(relationLines.get(table.name) ?? []));
    const block: string[] = [];
    if (table.primaryKey.columns.length > 1)
      block.push(
        `  @@id([${table.primaryKey.columns.map(col).join(', ')}], map: ${str(table.primaryKey.name)})`,
      );
    for (const index of model.indexes.filter((i) => i.table === table.name)) {
      const attribute = indexAttribute(index, col);
      if (attribute === undefined) notes.push(untranslatableIndex(index));
      else block.push(`  ${attribute}`);
    }
    for (const check of model.checks.filter((c) => c.table === table.name))
      notes.push(
        `CHECK ${check.name} (Prisma has no CHECK constraints; PostgreSQL enforces it): ${check.expression}`,
      );
    if (table.primaryKey.columns.length === 0) {
      notes.push('no primary key, so Prisma Client cannot use this table (@@ignore)');
      block.push('  @@ignore');
    }
    if (options.schema !== 'public') block.push(`  @@schema(${str(options.schema)})`);
    block.push(`  @@map(${str(table.name)})`);
    const comment = [...tableComment(model, table), ...notes].map((l) => `/// ${oneLine(l)}`).join('\n');
    return `${comment}\nmodel ${modelName(table.name)} {\n${lines.join('\n')}\n\n${block.join('\n')}\n}`;
  });

  const datasource = [
    'datasource db {',
    '  provider = "postgresql"',
    ...(options.schema === 'public' ? [] : [`  schemas  = [${str(options.schema)}]`]),
    '}',
  ];
  const header = [
    ...ormHeader('--prisma', options).map((l) => `// ${l}`),
    '// The connection URL belongs in prisma.config.ts (Prisma 7), not here.',
    ...untranslatedNotes(model).map((l) => `// ${oneLine(l)}`),
    '',
    'generator client {',
    '  provider = "prisma-client-js"',
    '}',
    '',
    ...datasource,
  ];
  return `${[...header, '', blocks.join('\n\n')].join('\n')}\n`;
}

/** A column's Prisma type and native-type attribute, plus what Prisma cannot say about it. */
function scalarField(column: ColumnDef): { type: string; attributes: string; note?: string } {
  const parsed = parsePgType(column.pgType);
  const info = parsed.ok ? parsed.type : { base: 'jsonb' as const, array: false };
  const [type, native] = ((): [string, string] => {
    switch (info.base) {
      case 'uuid':
        return ['String', ' @db.Uuid'];
      case 'text':
        return ['String', ''];
      case 'integer':
        return ['Int', ''];
      case 'bigint':
        return ['BigInt', ''];
      case 'double precision':
        return ['Float', ''];
      case 'numeric':
        return [
          'Decimal',
          info.precision === undefined ? '' : ` @db.Decimal(${info.precision}, ${info.scale ?? 0})`,
        ];
      case 'boolean':
        return ['Boolean', ''];
      case 'timestamptz':
        // The precision the column is created with (see DATE_PRECISION in pg-types.ts).
        return ['DateTime', ` @db.Timestamptz(${info.precision ?? DATE_PRECISION})`];
      case 'bytea':
        return ['Bytes', ''];
      case 'jsonb':
        return ['Json', ' @db.JsonB'];
      default:
        return assertNever(info.base);
    }
  })();
  const note =
    info.base === 'numeric' && info.precision === undefined
      ? 'unconstrained numeric in PostgreSQL; `prisma migrate` would create it as decimal(65,30)'
      : info.array && column.nullable
        ? `${column.pgType} may be NULL in PostgreSQL; Prisma lists cannot be optional`
        : undefined;
  if (info.array) return { type: `${type}[]`, attributes: native, ...(note && { note }) };
  return { type: `${type}${column.nullable ? '?' : ''}`, attributes: native, ...(note && { note }) };
}

/** `@@unique`/`@@index` for an index Prisma can state exactly, else undefined. */
function indexAttribute(index: IndexDef, col: (column: string) => string): string | undefined {
  if (index.where !== undefined || index.keys.some((k) => k.kind === 'expression')) return undefined;
  if (index.unique && index.method !== 'btree') return undefined;
  const keys = index.keys.map((k) =>
    k.kind === 'column' ? `${col(k.column)}${k.descending ? '(sort: Desc)' : ''}` : '',
  );
  const type = index.method === 'gin' ? ', type: Gin' : '';
  return `${index.unique ? '@@unique' : '@@index'}([${keys.join(', ')}]${type}, map: ${str(index.name)})`;
}

function untranslatableIndex(index: IndexDef): string {
  const keys = index.keys.map((k) =>
    k.kind === 'column' ? `"${k.column}"${k.descending ? ' desc' : ''}` : `(${k.sql})`,
  );
  const where = index.where === undefined ? '' : ` where ${index.where}`;
  return `index ${index.name} (Prisma cannot express it; PostgreSQL keeps it): ${index.unique ? 'unique ' : ''}using ${index.method} (${keys.join(', ')})${where}`;
}

/** Whether `columns` are exactly the primary key or a full unique index of `table`. */
function isUniqueIn(model: SchemaModel, table: TableDef, columns: readonly string[]): boolean {
  const same = (keys: readonly string[]) =>
    keys.length === columns.length && keys.every((k) => columns.includes(k));
  if (same(table.primaryKey.columns)) return true;
  return model.indexes.some(
    (i) =>
      i.table === table.name &&
      i.unique &&
      i.where === undefined &&
      i.keys.every((k) => k.kind === 'column') &&
      same(i.keys.map((k) => (k.kind === 'column' ? k.column : ''))),
  );
}

function str(text: string): string {
  return JSON.stringify(text);
}

function oneLine(text: string): string {
  return text.replaceAll(/[\r\n]+/g, ' ');
}

function assertNever(value: never): never {
  throw new Error(`unhandled PostgreSQL type ${JSON.stringify(value)}`);
}
