import { DATE_PRECISION, parsePgType } from '../../mapping/pg-types.js';
import type { ColumnDef, IndexDef, IndexKey, SchemaModel, TableDef } from '../schema-model.js';
import { IdentifierPool } from './code-names.js';
import { type OrmExportOptions, ormHeader, tableComment, untranslatedNotes } from './export-notes.js';
import { ormRelations } from './orm-relations.js';

/** What the file imports from `drizzle-orm/pg-core`; no table constant may take these names. */
const PG_CORE = [
  'bigint',
  'boolean',
  'check',
  'customType',
  'doublePrecision',
  'foreignKey',
  'index',
  'integer',
  'jsonb',
  'numeric',
  'pgSchema',
  'pgTable',
  'primaryKey',
  'text',
  'timestamp',
  'uniqueIndex',
  'uuid',
] as const;
type PgCoreName = (typeof PG_CORE)[number];
const DRIZZLE = ['relations', 'sql'] as const;

/**
 * The schema as a Drizzle `pg-core` TypeScript module: one exported table per plan table
 * (columns with their exact PostgreSQL types, primary keys, foreign keys with their
 * on-delete rule, unique, partial and GIN indexes, the discriminator CHECKs), then the
 * `relations()` between roots and child tables and across references. Table and column
 * names are the plan's; TypeScript names are camelCase and never collide. Pure and
 * deterministic: the same model gives the same bytes, so CI can diff the file.
 *
 * @example
 * import { writeFile } from 'node:fs/promises';
 * declare const plan: Plan;
 * const source = exportDrizzle(buildSchema(plan), { schema: 'public' });
 * await writeFile('src/db/schema.ts', source);
 */
export function exportDrizzle(model: SchemaModel, options: OrmExportOptions): string {
  const used = new Set<string>(DRIZZLE);
  const use = (name: PgCoreName) => {
    used.add(name);
    return name;
  };
  const globals = new IdentifierPool([...PG_CORE, ...DRIZZLE, 'bytea']);
  const inPublic = options.schema === 'public';
  const schemaConst = inPublic ? undefined : globals.take(`${options.schema}_schema`);
  const tableIds = new Map(model.tables.map((t) => [t.name, globals.take(t.name, 'table')]));
  const columnIds = new Map(model.tables.map((t) => [t.name, columnIdentifiers(t)]));
  const col = (table: string, column: string) => columnIds.get(table)?.get(column) ?? column;
  const tableId = (name: string) => tableIds.get(name) ?? name;

  const declared = model.tables.map((t) => t.name);
  const types = new Set<string>();
  const typeOnly = (name: string) => {
    types.add(name);
    return name;
  };
  const blocks: string[] = [];
  for (const table of model.tables) {
    const single = table.primaryKey.columns.length === 1 ? table.primaryKey.columns[0] : undefined;
    const columns = table.columns.map((c) => {
      const builder = columnBuilder(c, use);
      const key = c.name === single ? '.primaryKey()' : c.nullable ? '' : '.notNull()';
      return `    ${col(table.name, c.name)}: ${builder}${key},`;
    });
    const extras: string[] = [];
    if (single === undefined && table.primaryKey.columns.length > 0) {
      const keys = table.primaryKey.columns.map((c) => `t.${col(table.name, c)}`).join(', ');
      extras.push(`${use('primaryKey')}({ name: ${str(table.primaryKey.name)}, columns: [${keys}] })`);
    }
    for (const fk of model.foreignKeys.filter((f) => f.table === table.name)) {
      const own = fk.columns.map((c) => `t.${col(table.name, c)}`).join(', ');
      const target = fk.refTable === table.name ? 't' : tableId(fk.refTable);
      const theirs = fk.refColumns.map((c) => `${target}.${col(fk.refTable, c)}`).join(', ');
      const onDelete = fk.onDelete === 'cascade' ? `.onDelete('cascade')` : '';
      extras.push(
        `${use('foreignKey')}({ name: ${str(fk.name)}, columns: [${own}], foreignColumns: [${theirs}] })${onDelete}`,
      );
    }
    for (const index of model.indexes.filter((i) => i.table === table.name)) {
      extras.push(indexBuilder(index, (c) => col(table.name, c), use));
    }
    for (const check of model.checks.filter((c) => c.table === table.name)) {
      extras.push(`${use('check')}(${str(check.name)}, sql${template(check.expression)})`);
    }
    const define = schemaConst === undefined ? use('pgTable') : `${schemaConst}.table`;
    // A key to a table declared further down closes a cycle of references; TypeScript can
    // only type the two tables if this callback's return type is spelled out.
    const forward = model.foreignKeys.some(
      (fk) => fk.table === table.name && declared.indexOf(fk.refTable) > declared.indexOf(table.name),
    );
    const returns = forward ? `: ${typeOnly('PgTableExtraConfigValue')}[]` : '';
    const config =
      extras.length === 0 ? '' : `,\n  (t)${returns} => [\n${extras.map((e) => `    ${e},`).join('\n')}\n  ]`;
    blocks.push(
      `${jsDoc(tableComment(model, table))}export const ${tableId(table.name)} = ${define}(\n  ${str(table.name)},\n  {\n${columns.join('\n')}\n  }${config},\n);`,
    );
  }

  const relationBlocksText = relationBlocks(model, tableId, col, globals);
  blocks.push(...relationBlocksText);

  if (schemaConst !== undefined) use('pgSchema');
  const needsBytea = model.tables.some((t) => t.columns.some((c) => baseType(c.pgType) === 'bytea'));
  if (needsBytea) use('customType');
  const pgCore = PG_CORE.filter((name) => used.has(name));
  const body = blocks.join('\n\n');
  const drizzle = DRIZZLE.filter((name) =>
    name === 'sql' ? body.includes('sql`') : relationBlocksText.length > 0,
  );
  const header = [
    ...ormHeader('--drizzle', options).map((line) => `// ${line}`),
    ...untranslatedNotes(model).map((line) => `// ${line}`),
    '',
    ...(drizzle.length > 0 ? [`import { ${drizzle.join(', ')} } from 'drizzle-orm';`] : []),
    `import { ${[...pgCore, ...[...types].map((t) => `type ${t}`)].join(', ')} } from 'drizzle-orm/pg-core';`,
  ];
  if (needsBytea)
    header.push(
      '',
      '/** PostgreSQL `bytea`: Drizzle has no builder for it, so a custom type spells it. */',
      `const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });`,
    );
  if (schemaConst !== undefined)
    header.push('', `export const ${schemaConst} = pgSchema(${str(options.schema)});`);
  return `${[...header, '', body].join('\n')}\n`;
}

/** Property names for a table's columns: camelCase, unique within the table. */
function columnIdentifiers(table: TableDef): Map<string, string> {
  const pool = new IdentifierPool();
  return new Map(table.columns.map((c) => [c.name, pool.take(c.name, 'column')]));
}

function baseType(pgType: string): string {
  return pgType.endsWith('[]') ? pgType.slice(0, -2) : pgType;
}

function columnBuilder(column: ColumnDef, use: (name: PgCoreName) => string): string {
  const parsed = parsePgType(column.pgType);
  // The model comes from a validated plan, so every type parses; `unknown` types (a parent
  // key whose parent table is missing) cannot reach here.
  const type = parsed.ok ? parsed.type : { base: 'jsonb' as const, array: false };
  const name = str(column.name);
  let builder: string;
  switch (type.base) {
    case 'uuid':
    case 'text':
    case 'integer':
    case 'boolean':
    case 'jsonb':
      builder = `${use(type.base)}(${name})`;
      break;
    case 'bigint':
      // `mode: 'bigint'`: a JavaScript number would round int64 values above 2^53.
      builder = `${use('bigint')}(${name}, { mode: 'bigint' })`;
      break;
    case 'double precision':
      builder = `${use('doublePrecision')}(${name})`;
      break;
    case 'numeric':
      builder =
        type.precision === undefined
          ? `${use('numeric')}(${name})`
          : `${use('numeric')}(${name}, { precision: ${type.precision}, scale: ${type.scale ?? 0} })`;
      break;
    case 'timestamptz':
      // The precision the column is created with (see DATE_PRECISION in pg-types.ts).
      builder = `${use('timestamp')}(${name}, { withTimezone: true, precision: ${type.precision ?? DATE_PRECISION} })`;
      break;
    case 'bytea':
      builder = `bytea(${name})`;
      break;
    default:
      builder = assertNever(type.base);
  }
  return type.array ? `${builder}.array()` : builder;
}

function indexBuilder(
  index: IndexDef,
  col: (column: string) => string,
  use: (name: PgCoreName) => string,
): string {
  const keys = index.keys.map((k: IndexKey) =>
    k.kind === 'column'
      ? `t.${col(k.column)}.${k.descending ? 'desc().nullsFirst' : 'asc'}()`
      : `sql${template(k.sql)}`,
  );
  const kind = index.unique ? use('uniqueIndex') : use('index');
  const where = index.where === undefined ? '' : `.where(sql${template(index.where)})`;
  return `${kind}(${str(index.name)}).using(${str(index.method)}, ${keys.join(', ')})${where}`;
}

function relationBlocks(
  model: SchemaModel,
  tableId: (name: string) => string,
  col: (table: string, column: string) => string,
  globals: IdentifierPool,
): string[] {
  const fields = new Map<string, string[]>(model.tables.map((t) => [t.name, []]));
  const pools = new Map(
    model.tables.map((t) => [t.name, new IdentifierPool(t.columns.map((c) => col(t.name, c.name)))]),
  );
  for (const relation of ormRelations(model)) {
    const fk = relation.foreignKey;
    const own = pools.get(fk.table)?.claim(relation.oneName) ?? relation.oneName;
    const theirs = pools.get(fk.refTable)?.claim(relation.manyName) ?? relation.manyName;
    const from = fk.columns.map((c) => `${tableId(fk.table)}.${col(fk.table, c)}`).join(', ');
    const to = fk.refColumns.map((c) => `${tableId(fk.refTable)}.${col(fk.refTable, c)}`).join(', ');
    fields
      .get(fk.table)
      ?.push(
        `  ${own}: one(${tableId(fk.refTable)}, { fields: [${from}], references: [${to}], relationName: ${str(fk.name)} }),`,
      );
    fields
      .get(fk.refTable)
      ?.push(`  ${theirs}: many(${tableId(fk.table)}, { relationName: ${str(fk.name)} }),`);
  }
  return model.tables
    .filter((t) => (fields.get(t.name) ?? []).length > 0)
    .map((t) => {
      const body = fields.get(t.name) ?? [];
      const helpers = ['one', 'many'].filter((h) => body.some((line) => line.includes(`: ${h}(`)));
      const name = globals.claim(`${tableId(t.name)}Relations`);
      return `export const ${name} = relations(${tableId(t.name)}, ({ ${helpers.join(', ')} }) => ({\n${body.join('\n')}\n}));`;
    });
}

/** A single-quoted TypeScript string literal, escaped as JSON escapes (valid TypeScript). */
function str(text: string): string {
  const body = JSON.stringify(text).slice(1, -1);
  return `'${body.replace(/\\.|'/g, (m) => (m === '\\"' ? '"' : m === "'" ? "\\'" : m))}'`;
}

/** A tagged-template body that yields `text` verbatim. */
function template(text: string): string {
  return `\`${text.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')}\``;
}

function jsDoc(lines: readonly string[]): string {
  const body = lines.map((l) => ` * ${l.replaceAll('*/', '*\\/')}`).join('\n');
  return `/**\n${body}\n */\n`;
}

function assertNever(value: never): never {
  throw new Error(`unhandled PostgreSQL type ${JSON.stringify(value)}`);
}
