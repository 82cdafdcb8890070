import type { SourceType } from '../mapping/pg-types.js';
import type { BsonTypeName } from './bson-type.js';
import type { FieldSnapshot } from './snapshot.js';

/** The column type chosen for one field's values, with why. */
export interface TypeChoice {
  readonly pgType: string;
  readonly sourceType: SourceType;
  /** True when every non-null value seen fits the column exactly (nothing would go to `_extra`). */
  readonly exact: boolean;
  /** Short evidence for people: `decimal, max precision 6, max scale 2`. */
  readonly evidence: string;
  /** Set when the values disagree on their type: the report shows it as a warning. */
  readonly conflict?: string;
}

const NUMBER_TYPES: readonly BsonTypeName[] = ['int', 'long', 'double', 'decimal'];

/**
 * The fallback for values no typed column holds exactly: Extended JSON in `jsonb`, which
 * keeps every BSON type. `conflict` makes the report show a warning.
 *
 * @example
 * keptInJsonb('mixed types: string 90, int 10', 'values of 2 types … kept in jsonb');
 */
export function keptInJsonb(evidence: string, conflict?: string): TypeChoice {
  return {
    pgType: 'jsonb',
    sourceType: 'any',
    exact: true,
    evidence,
    ...(conflict === undefined ? {} : { conflict }),
  };
}

/** 2^53: the largest range in which a `double precision` holds every integer exactly. */
const SAFE_INTEGER = 2n ** 53n;

/**
 * The non-null BSON types of a field's values, in snapshot order.
 *
 * @example
 * valueTypes({ types: { string: 3, null: 1 } } as FieldSnapshot); // ['string']
 */
export function valueTypes(field: Pick<FieldSnapshot, 'types'>): BsonTypeName[] {
  return (Object.keys(field.types) as BsonTypeName[]).filter((t) => t !== 'null');
}

/**
 * The scalar column for a field whose values are not objects or arrays (those are shapes,
 * decided by the table builder), following DESIGN.md "Mapping rules": each BSON type to its
 * natural PostgreSQL type, mixed numbers to the narrowest type that holds all of them exactly,
 * and any other mix to `jsonb` with a conflict the report shows as a warning.
 *
 * @example
 * declare const priceField: FieldSnapshot;
 * declare const zipField: FieldSnapshot;
 * scalarChoice(priceField); // { pgType: 'numeric', sourceType: 'decimal', exact: true, evidence: 'decimal, max precision 6, max scale 2' }
 * scalarChoice(zipField);   // { pgType: 'jsonb', sourceType: 'any', conflict: 'string 90, int 10', … }
 */
export function scalarChoice(field: FieldSnapshot): TypeChoice {
  const types = valueTypes(field);
  if (types.length === 0) return keptInJsonb('only null values seen');
  if (types.every((t) => NUMBER_TYPES.includes(t))) return numberChoice(field, types);
  if (types.length > 1) {
    const conflict = types.map((t) => `${t} ${field.types[t]}`).join(', ');
    return keptInJsonb(
      `mixed types: ${conflict}`,
      `values of ${types.length} types (${conflict}) have no common exact PostgreSQL type; kept in jsonb as Extended JSON`,
    );
  }
  return singleChoice(field, types[0]!);
}

function singleChoice(field: FieldSnapshot, type: BsonTypeName): TypeChoice {
  switch (type) {
    case 'objectId':
      return { pgType: 'uuid', sourceType: 'objectId', exact: true, evidence: 'objectId (reversible uuid)' };
    case 'string': {
      const s = field.strings;
      const length = s ? `, length ${s.minLength}…${s.maxLength}` : '';
      return { pgType: 'text', sourceType: 'string', exact: true, evidence: `string${length}` };
    }
    case 'bool':
      return { pgType: 'boolean', sourceType: 'bool', exact: true, evidence: 'bool' };
    case 'date': {
      const d = field.dates;
      const range = d?.min && d.max ? ` ${d.min.slice(0, 10)}…${d.max.slice(0, 10)}` : '';
      return { pgType: 'timestamptz', sourceType: 'date', exact: true, evidence: `date${range}` };
    }
    case 'binData': {
      const subtypes = Object.keys(field.binary?.subtypes ?? {});
      // The codec stores only generic binary (subtype 0) in bytea; a UUID or MD5 subtype
      // would come back as subtype 0, so those stay Extended JSON in jsonb.
      if (subtypes.length === 1 && subtypes[0] === '0')
        return { pgType: 'bytea', sourceType: 'binData', exact: true, evidence: 'binData subtype 0' };
      return keptInJsonb(`binData subtypes ${subtypes.join(', ')} (bytea keeps only subtype 0)`);
    }
    default:
      return keptInJsonb(`${type} (no PostgreSQL equivalent; Extended JSON in jsonb)`);
  }
}

function numberChoice(field: FieldSnapshot, types: readonly BsonTypeName[]): TypeChoice {
  const n = field.numbers;
  const has = (t: BsonTypeName) => types.includes(t);
  const range = n?.min != null && n.max != null ? ` ${n.min}…${n.max}` : '';
  const mixed = types.length > 1;
  const source = (single: SourceType): SourceType => (mixed ? 'number' : single);
  const named = types.join('+');
  if (has('decimal')) {
    const d = n?.decimal;
    const shape = d ? `, max precision ${d.maxPrecision}, max scale ${d.maxScale}` : '';
    if (has('double'))
      return keptInJsonb(
        `${named}${range}`,
        'decimal and double values mixed: numeric would turn a double into a decimal on the way back, and double precision would round the decimals; kept in jsonb',
      );
    return {
      pgType: 'numeric',
      sourceType: source('decimal'),
      exact: true,
      evidence: `${named}${range}${shape}`,
    };
  }
  if (has('double')) {
    const longsFit = !has('long') || withinSafeIntegers(n?.min ?? null, n?.max ?? null);
    if (!longsFit)
      return keptInJsonb(
        `${named}${range}`,
        'long values beyond 2^53 mixed with doubles: double precision would round the longs and numeric would change the doubles; kept in jsonb',
      );
    return {
      pgType: 'double precision',
      sourceType: source('double'),
      exact: true,
      evidence: `${named}${range}`,
    };
  }
  if (has('long'))
    return { pgType: 'bigint', sourceType: source('long'), exact: true, evidence: `${named}${range}` };
  return { pgType: 'integer', sourceType: 'int', exact: true, evidence: `int${range}` };
}

function withinSafeIntegers(min: string | null, max: string | null): boolean {
  if (min === null || max === null) return true;
  const whole = (text: string) => BigInt(text.split('.')[0]!.replace(/e.*$/i, '') || '0');
  try {
    return whole(min) >= -SAFE_INTEGER && whole(max) <= SAFE_INTEGER;
  } catch {
    return false;
  }
}

/**
 * The array column for an array of scalars: `text[]`, `double precision[]`, …; undefined when
 * the elements are objects, arrays or of mixed types (a child table or jsonb decides then).
 *
 * @example
 * declare const tagsElementField: FieldSnapshot;
 * arrayChoice(tagsElementField); // { pgType: 'text[]', sourceType: 'string', … }
 */
export function arrayChoice(element: FieldSnapshot): TypeChoice | undefined {
  const types = valueTypes(element);
  if (types.length === 0 || types.includes('object') || types.includes('array')) return undefined;
  const scalar = scalarChoice(element);
  if (scalar.conflict !== undefined || scalar.pgType === 'jsonb') return undefined;
  return { ...scalar, pgType: `${scalar.pgType}[]` };
}
