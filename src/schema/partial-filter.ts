import { objectIdToUuid } from '../mapping/identity.js';
import { type CollectionPlan, type ColumnPlan, quoteIdent } from '../mapping/model.js';
import { resolveField } from './field-resolution.js';
import { quoteLiteral } from './sql-text.js';

/** The result of translating a `partialFilterExpression`: SQL, or why it cannot be. */
export type FilterTranslation =
  | { readonly ok: true; readonly sql: string }
  | { readonly ok: false; readonly reason: string };

const COMPARISONS: Readonly<Record<string, string>> = {
  $eq: '=',
  $gt: '>',
  $gte: '>=',
  $lt: '<',
  $lte: '<=',
};

/**
 * Translate the operators MongoDB allows in a partial index filter that have an exact SQL
 * meaning over Ferry's columns: equality and comparisons with a literal of the column's
 * type, `$exists: true`, `$type` equal to the column's own type (values of other types are
 * in `_extra`, so the column is NULL for them), and `$and` of those. Anything else is
 * refused with a reason rather than approximated: a wrong predicate on a unique index
 * would reject rows MongoDB accepted.
 *
 * @example
 * declare const users: CollectionPlan;
 * translateFilter(users, { status: 'active', age: { $gte: 18 } })
 * // { ok: true, sql: '"status" = \'active\' and "age" >= 18' }
 */
export function translateFilter(
  collection: CollectionPlan,
  filter: Readonly<Record<string, unknown>>,
): FilterTranslation {
  const parts: string[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$and') {
      if (!Array.isArray(condition)) return { ok: false, reason: '$and needs an array' };
      for (const item of condition) {
        if (!isPlainObject(item)) return { ok: false, reason: '$and holds a non-object' };
        const inner = translateFilter(collection, item);
        if (!inner.ok) return inner;
        parts.push(inner.sql);
      }
      continue;
    }
    if (field.startsWith('$')) return { ok: false, reason: `operator ${field} has no SQL translation` };
    const location = resolveField(collection, field);
    if (location.kind !== 'column')
      return { ok: false, reason: `field "${field}" is not a column of the root table` };
    const column = location.column;
    const ops =
      isPlainObject(condition) && Object.keys(condition).every((k) => k.startsWith('$'))
        ? Object.entries(condition)
        : [['$eq', condition] as const];
    for (const [op, value] of ops) {
      const part = translateOperator(column, op, value);
      if (!part.ok) return { ok: false, reason: `field "${field}": ${part.reason}` };
      parts.push(part.sql);
    }
  }
  if (parts.length === 0) return { ok: false, reason: 'empty filter' };
  return { ok: true, sql: parts.join(' and ') };
}

function translateOperator(column: ColumnPlan, op: string, value: unknown): FilterTranslation {
  const name = quoteIdent(column.name);
  if (op === '$exists') {
    return value === true
      ? { ok: true, sql: `${name} is not null` }
      : { ok: false, reason: '$exists: false is not allowed in a partial index' };
  }
  if (op === '$type') {
    return value === column.sourceType
      ? { ok: true, sql: `${name} is not null` }
      : {
          ok: false,
          reason: `$type ${JSON.stringify(value)} differs from the column's type ${column.sourceType}`,
        };
  }
  const operator = COMPARISONS[op];
  if (operator === undefined) return { ok: false, reason: `operator ${op} has no SQL translation` };
  const literal = sqlLiteral(column, value);
  if (literal === undefined)
    return { ok: false, reason: `${JSON.stringify(value)} is not a ${column.pgType} literal` };
  return { ok: true, sql: `${name} ${operator} ${literal}` };
}

/** A literal of the column's type, or undefined when the value cannot be one exactly. */
function sqlLiteral(column: ColumnPlan, value: unknown): string | undefined {
  const type = column.pgType;
  if (type.endsWith('[]')) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (type === 'integer' || type === 'bigint') return Number.isInteger(value) ? String(value) : undefined;
    if (type === 'double precision' || type.startsWith('numeric')) return String(value);
    return undefined;
  }
  if (typeof value === 'string' && type === 'text') return quoteLiteral(value);
  if (typeof value === 'boolean' && type === 'boolean') return String(value);
  if (/^timestamptz(\(\d\))?$/.test(type)) {
    const iso = value instanceof Date ? value.toISOString() : isPlainObject(value) ? value.$date : undefined;
    if (typeof iso === 'string' && !Number.isNaN(Date.parse(iso)))
      return `${quoteLiteral(new Date(iso).toISOString())}::timestamptz`;
    return undefined;
  }
  if (type === 'uuid' && isPlainObject(value) && typeof value.$oid === 'string') {
    try {
      return `${quoteLiteral(objectIdToUuid(value.$oid))}::uuid`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
