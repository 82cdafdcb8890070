/**
 * The PostgreSQL column types a plan may name, the BSON source types a column may declare,
 * and which pairs are allowed. A pair is allowed only when every value of the source type
 * fits the column exactly; anything narrower is refused when the plan is validated, before
 * a single row is written (a `integer` column for `long` values would fail half-way through a
 * backfill, or worse, be "fixed" by someone with a cast).
 */

/** Scalar PostgreSQL types, spelled exactly as Ferry writes them in DDL. */
export const SCALAR_PG_TYPES = [
  'uuid',
  'text',
  'integer',
  'bigint',
  'double precision',
  'numeric',
  'boolean',
  'timestamptz',
  'bytea',
  'jsonb',
] as const;
export type ScalarPgType = (typeof SCALAR_PG_TYPES)[number];

/**
 * BSON types a column declares (MongoDB's `$type` aliases), plus three that describe sets:
 * `number` (any numeric type that fits the column exactly), `object`/`array` (a sub-document
 * or array kept whole in `jsonb`) and `any` (every value, `jsonb` only).
 */
export const SOURCE_TYPES = [
  'objectId',
  'string',
  'int',
  'long',
  'double',
  'decimal',
  'number',
  'bool',
  'date',
  'binData',
  'object',
  'array',
  'any',
] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/**
 * A parsed `pgType`: `numeric(38,18)` is `{ base: 'numeric', precision: 38, scale: 18 }`;
 * `timestamptz(3)` is `{ base: 'timestamptz', precision: 3 }` (fractional digits of a second).
 */
export interface PgTypeInfo {
  readonly base: ScalarPgType;
  readonly array: boolean;
  readonly precision?: number;
  readonly scale?: number;
}

/**
 * The fractional-second digits of a mapped date column. A BSON date holds milliseconds, so
 * Ferry creates `timestamptz` columns as `timestamptz(3)`: PostgreSQL rounds what any writer
 * stores (an application's `now()` has microseconds) to what MongoDB can hold.
 */
export const DATE_PRECISION = 3;

/** PostgreSQL's own limit for a declared numeric precision. */
const MAX_NUMERIC_PRECISION = 1000;

/**
 * Parse a plan's `pgType`, or return a reason it is not one Ferry knows.
 *
 * @example
 * parsePgType('numeric(12,2)[]')  // { ok: true, type: { base: 'numeric', precision: 12, scale: 2, array: true } }
 * parsePgType('timestamptz(3)')   // { ok: true, type: { base: 'timestamptz', precision: 3, array: false } }
 * parsePgType('int4')             // { ok: false, reason: 'unknown PostgreSQL type "int4"; …' }
 */
export function parsePgType(
  text: string,
): { readonly ok: true; readonly type: PgTypeInfo } | { readonly ok: false; readonly reason: string } {
  const array = text.endsWith('[]');
  const body = array ? text.slice(0, -2) : text;
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(body);
  if (numeric) {
    const precision = Number(numeric[1]);
    const scale = Number(numeric[2]);
    if (precision < 1 || precision > MAX_NUMERIC_PRECISION || scale > precision)
      return {
        ok: false,
        reason: `numeric(${precision},${scale}) needs 1 <= precision <= 1000 and scale <= precision`,
      };
    return { ok: true, type: { base: 'numeric', precision, scale, array } };
  }
  const timestamp = /^timestamptz\((\d+)\)$/.exec(body);
  if (timestamp) {
    const precision = Number(timestamp[1]);
    // Fewer digits than milliseconds would round the dates themselves.
    if (precision < DATE_PRECISION || precision > 6)
      return {
        ok: false,
        reason: `timestamptz(${precision}) needs 3 <= precision <= 6: a date holds milliseconds, which fewer digits would round`,
      };
    return { ok: true, type: { base: 'timestamptz', precision, array } };
  }
  const base = SCALAR_PG_TYPES.find((t) => t === body);
  if (base === undefined)
    return {
      ok: false,
      reason: `unknown PostgreSQL type "${text}"; use one of ${SCALAR_PG_TYPES.join(', ')}, numeric(p,s), timestamptz(p), or an array of those ("text[]")`,
    };
  if (array && base === 'jsonb')
    return { ok: false, reason: 'jsonb[] is not supported; a jsonb column already holds arrays' };
  return { ok: true, type: { base, array } };
}

/** Which source types each base type accepts without losing anything. */
const ALLOWED: Readonly<Record<ScalarPgType, readonly SourceType[]>> = {
  uuid: ['objectId'],
  text: ['string'],
  integer: ['int'],
  bigint: ['int', 'long', 'number'],
  'double precision': ['int', 'double', 'number'],
  numeric: ['int', 'long', 'decimal', 'number'],
  boolean: ['bool'],
  timestamptz: ['date'],
  bytea: ['binData'],
  jsonb: ['object', 'array', 'any'],
};

/** Digits a declared numeric needs left of the point to hold every int32 / int64. */
const INTEGER_DIGITS: Partial<Record<SourceType, number>> = { int: 10, long: 19 };

/**
 * Why `sourceType` values cannot be stored in `pgType` exactly, or undefined when they can.
 *
 * @example
 * columnTypeProblem({ base: 'integer', array: false }, 'long')
 * // 'integer is too narrow for long values (64-bit); use bigint or numeric'
 */
export function columnTypeProblem(type: PgTypeInfo, sourceType: SourceType): string | undefined {
  const allowed = ALLOWED[type.base];
  if (type.array && (sourceType === 'object' || sourceType === 'array' || sourceType === 'any'))
    return `${type.base}[] cannot hold ${sourceType} elements; use jsonb or a child table`;
  if (!allowed.includes(sourceType)) {
    if (type.base === 'integer' && (sourceType === 'long' || sourceType === 'number'))
      return `integer is too narrow for ${sourceType} values (64-bit); use bigint or numeric`;
    if (type.base === 'double precision' && (sourceType === 'long' || sourceType === 'decimal'))
      return `double precision would round ${sourceType} values; use numeric`;
    if (type.base === 'bigint' && (sourceType === 'double' || sourceType === 'decimal'))
      return `bigint cannot hold fractional ${sourceType} values; use ${sourceType === 'double' ? 'double precision' : 'numeric'}`;
    return `${type.base} cannot hold ${sourceType} values; it accepts ${allowed.join(', ')}`;
  }
  const needed = INTEGER_DIGITS[sourceType];
  if (type.precision !== undefined && needed !== undefined) {
    const integerDigits = type.precision - (type.scale ?? 0);
    if (integerDigits < needed)
      return `numeric(${type.precision},${type.scale}) is too narrow for ${sourceType} values: they need ${needed} digits before the point`;
  }
  return undefined;
}
