import { quoteIdent } from '../mapping/model.js';

/**
 * The token migration files use where the target schema goes. It is psql's own syntax for
 * "variable as a quoted identifier", so a file also runs by hand:
 * `psql -v schema=app -f migrations/0001_create_tables.sql`.
 */
export const SCHEMA_PLACEHOLDER = ':"schema"';

/**
 * Where DDL is compiled to: a real schema (`ferry plan --schema app`) or the placeholder
 * (migration files, applied to several schemas).
 */
export type SchemaTarget =
  | { readonly kind: 'schema'; readonly name: string }
  | { readonly kind: 'placeholder' };

/**
 * A schema-qualified, quoted name.
 *
 * @example
 * qualified({ kind: 'schema', name: 'app' }, 'users')   // '"app"."users"'
 * qualified({ kind: 'placeholder' }, 'users')            // ':"schema"."users"'
 */
export function qualified(target: SchemaTarget, name: string): string {
  return `${schemaRef(target)}.${quoteIdent(name)}`;
}

/** The schema itself, quoted (or the placeholder). */
export function schemaRef(target: SchemaTarget): string {
  return target.kind === 'schema' ? quoteIdent(target.name) : SCHEMA_PLACEHOLDER;
}

/**
 * A SQL string literal. A literal that happens to contain the schema placeholder is written
 * as an escape string with the colon escaped, so substituting the placeholder can never
 * reach inside user text.
 *
 * @example
 * quoteLiteral("O'Brien")   // "'O''Brien'"
 */
export function quoteLiteral(text: string): string {
  if (!text.includes(SCHEMA_PLACEHOLDER)) return `'${text.replaceAll("'", "''")}'`;
  const body = text.replaceAll('\\', '\\\\').replaceAll("'", "''").replaceAll(':', '\\072');
  return `E'${body}'`;
}

/**
 * Replace the placeholder with a quoted schema name. Only whole tokens are replaced; the
 * compiler never writes the token anywhere else (see `quoteLiteral`), and a quoted identifier
 * cannot contain it because `"` inside one is doubled.
 *
 * @example
 * bindSchema('create table :"schema"."t" ()', 'app')   // 'create table "app"."t" ()'
 */
export function bindSchema(sql: string, schema: string): string {
  return sql.replaceAll(SCHEMA_PLACEHOLDER, quoteIdent(schema));
}
