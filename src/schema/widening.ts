import { DATE_PRECISION, type PgTypeInfo, parsePgType } from '../mapping/pg-types.js';

/** PostgreSQL's precision of a `timestamptz` declared without one: microseconds. */
const MAX_TIMESTAMP_PRECISION = 6;

/**
 * Whether every value of column type `from` converts to `to` exactly, so that
 * `alter column … type` can neither fail nor change a value: integer → bigint → numeric,
 * integer → double precision (every int32 is a double), numeric(p,s) → a numeric with as
 * many digits on both sides of the point (or unconstrained numeric), and the same for arrays
 * element by element. Such a change loses nothing, so `schema apply` runs it without asking.
 * A date column's precision counts too: it holds BSON dates, which have milliseconds, so
 * `timestamptz` → `timestamptz(3)` keeps every date Ferry can have written (it rounds only
 * the sub-millisecond digits another writer stored, which MongoDB could never hold).
 *
 * @example
 * isWidening('integer', 'bigint')            // true
 * isWidening('numeric(12,2)', 'numeric')     // true
 * isWidening('bigint', 'double precision')   // false: 2^53 + 1 has no double
 * isWidening('timestamptz', 'timestamptz(3)') // true
 */
export function isWidening(from: string, to: string): boolean {
  if (from === to) return true;
  const a = parsePgType(from);
  const b = parsePgType(to);
  if (!a.ok || !b.ok || a.type.array !== b.type.array) return false;
  return widens(a.type, b.type);
}

/** Digits left of the point an integer type can need (int32: 10, int64: 19). */
const INTEGER_DIGITS: Readonly<Record<string, number>> = { integer: 10, bigint: 19 };

function widens(from: PgTypeInfo, to: PgTypeInfo): boolean {
  if (to.base === 'numeric') {
    if (to.precision === undefined) return from.base === 'numeric' || from.base in INTEGER_DIGITS;
    const room = to.precision - (to.scale ?? 0);
    if (from.base === 'numeric')
      return (
        from.precision !== undefined &&
        (from.scale ?? 0) <= (to.scale ?? 0) &&
        from.precision - (from.scale ?? 0) <= room
      );
    const digits = INTEGER_DIGITS[from.base];
    return digits !== undefined && digits <= room;
  }
  if (from.base === 'timestamptz')
    return to.base === 'timestamptz' && (to.precision ?? MAX_TIMESTAMP_PRECISION) >= DATE_PRECISION;
  if (from.base === 'integer') return to.base === 'bigint' || to.base === 'double precision';
  return false;
}
