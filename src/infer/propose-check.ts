import type { CollectionPlan, ColumnPlan, TablePlan } from '../mapping/model.js';
import { type PgTypeInfo, parsePgType } from '../mapping/pg-types.js';
import { checkPlan, type PlanProblem } from '../mapping/validate-plan.js';
import { BSON_TYPE_NAMES, type BsonTypeName } from './bson-type.js';
import { decimalShape } from './decimal-shape.js';
import { ANY_KEY, ELEMENT, type FieldPath, keySegment } from './field-path.js';
import { pathKey } from './propose-context.js';
import { valueTypes } from './propose-types.js';
import type { CollectionSnapshot, FieldSnapshot, InferenceSnapshot } from './snapshot.js';
import { unmappedFields } from './unmapped-fields.js';

/** What `checkPlanAgainstStats` found. `problems` lose data or reject documents; warnings do not block. */
export interface StatsCheck {
  readonly ok: boolean;
  readonly problems: readonly PlanProblem[];
  readonly warnings: readonly PlanProblem[];
}

const NUMBERS: readonly BsonTypeName[] = ['int', 'long', 'double', 'decimal'];

/**
 * Check a (hand-edited) mapping against the statistics of the data it will load, before
 * anything is written: first the plan validator (unknown types, a type narrower than its
 * declared source type), then every column against the values actually seen. A column that
 * cannot hold some of its field's values (`integer` for values beyond int32, `numeric(10,2)`
 * for values with scale 4, `text` for a field that is sometimes an object) is a problem: those
 * values would not be in the column, so the mapping does not say what the data is. So is a
 * NOT NULL column whose field is sometimes missing: those documents would be rejected.
 * Problem paths point into the plan (`collections[0].tables[1].columns[2].pgType`).
 *
 * @example
 * declare const config: ResolvedConfig;
 * declare const stats: InferenceStats;
 * const check = checkPlanAgainstStats(config.mapping, stats.snapshot());
 * if (!check.ok) for (const p of check.problems) console.error(`${p.path}: ${p.reason}`);
 */
export function checkPlanAgainstStats(plan: unknown, snapshot: InferenceSnapshot): StatsCheck {
  const validated = checkPlan(plan);
  if (!validated.ok) return { ok: false, problems: validated.problems, warnings: [] };
  const problems: PlanProblem[] = [];
  const warnings: PlanProblem[] = [];
  validated.plan.collections.forEach((collection, ci) => {
    const stats = snapshot.collections.find((c) => c.name === collection.name);
    const where = `collections[${ci}]`;
    if (stats === undefined) {
      warnings.push({ path: `${where}.name`, reason: `the source has no collection "${collection.name}"` });
      return;
    }
    const fields = new Map(stats.fields.map((f) => [pathKey(f.path), f]));
    collection.tables.forEach((table, ti) => {
      const element = elementPath(collection, table);
      if (element === undefined) return;
      const rows = element.length === 0 ? stats.documents : (fields.get(pathKey(element))?.occurrences ?? 0);
      const tPath = `${where}.tables[${ti}]`;
      if (table.parent) checkShape(fields, element, table, tPath, problems);
      table.columns.forEach((column, k) => {
        const field = fields.get(pathKey([...element, ...column.path.map(keySegment)]));
        if (field === undefined) return; // never seen: nothing to lose
        checkColumn(stats, fields, field, column, rows, `${tPath}.columns[${k}]`, problems, warnings);
      });
      warnings.push(...unmappedFields(collection, table, element, fields, tPath));
      (table.discriminators ?? []).forEach((d, k) => {
        const field = fields.get(pathKey([...element, ...d.path.map(keySegment)]));
        const others = field ? valueTypes(field).filter((t) => t !== 'objectId' && t !== 'string') : [];
        if (field && others.length > 0)
          problems.push({
            path: `${tPath}.discriminators[${k}].path`,
            reason: `${field.name} also holds ${describe(field, others)}; a discriminator takes only ObjectId and string ids`,
          });
      });
    });
  });
  return { ok: problems.length === 0, problems, warnings };
}

/** The statistics path of a table's element: `[]` for the root, `items.[]` for an array child. */
function elementPath(collection: CollectionPlan, table: TablePlan): FieldPath | undefined {
  if (table.parent === undefined) return [];
  const parent = collection.tables.find((t) => t.name === table.parent?.table);
  const base = parent ? elementPath(collection, parent) : undefined;
  if (base === undefined) return undefined;
  return [...base, ...table.parent.path.map(keySegment), table.parent.shape === 'array' ? ELEMENT : ANY_KEY];
}

function checkShape(
  fields: ReadonlyMap<string, FieldSnapshot>,
  element: FieldPath,
  table: TablePlan,
  tPath: string,
  problems: PlanProblem[],
): void {
  const container = fields.get(pathKey(element.slice(0, -1)));
  if (container === undefined) return;
  const wanted: BsonTypeName = table.parent?.shape === 'array' ? 'array' : 'object';
  const others = valueTypes(container).filter((t) => t !== wanted);
  if (others.length > 0)
    problems.push({
      path: `${tPath}.parent.path`,
      reason: `${container.name} also holds ${describe(container, others)}; a child table of shape ${table.parent?.shape} holds only ${wanted}s (use a jsonb column)`,
    });
  if (wanted === 'object' && !fields.has(pathKey(element)) && valueTypes(container).includes('object'))
    problems.push({
      path: `${tPath}.parent.shape`,
      reason: `${container.name} was not seen as a map (its keys look like field names); map it as columns or jsonb`,
    });
}

function checkColumn(
  stats: CollectionSnapshot,
  fields: ReadonlyMap<string, FieldSnapshot>,
  field: FieldSnapshot,
  column: ColumnPlan,
  rows: number,
  cPath: string,
  problems: PlanProblem[],
  warnings: PlanProblem[],
): void {
  const parsed = parsePgType(column.pgType);
  if (!parsed.ok) return; // checkPlan reported it
  const type = parsed.type;
  const label = `column "${column.name}" (${column.pgType}, ${column.sourceType})`;
  let values = field;
  if (type.array) {
    const notArrays = valueTypes(field).filter((t) => t !== 'array');
    if (notArrays.length > 0)
      problems.push({
        path: `${cPath}.pgType`,
        reason: `${label}: ${field.name} also holds ${describe(field, notArrays)}, which an array column cannot hold`,
      });
    const element = fields.get(pathKey([...field.path, ELEMENT]));
    if (element === undefined) return;
    values = element;
  }
  const seen = valueTypes(values);
  const accepted = acceptedTypes(type, column.sourceType);
  const rejected = seen.filter((t) => !accepted.includes(t));
  if (rejected.length > 0)
    problems.push({
      path: `${cPath}.pgType`,
      reason: `${label} cannot hold ${describe(values, rejected)} seen at ${values.name}${hint(rejected)}`,
    });
  else {
    const range = rangeProblem(type, values);
    if (range) problems.push({ path: `${cPath}.pgType`, reason: `${label}: ${range} at ${values.name}` });
  }
  if (values.binary && type.base === 'bytea' && Object.keys(values.binary.subtypes).some((s) => s !== '0'))
    problems.push({
      path: `${cPath}.pgType`,
      reason: `${label}: bytea keeps only binary subtype 0; ${values.name} has subtypes ${Object.keys(values.binary.subtypes).join(', ')} (use jsonb)`,
    });
  if (!column.nullable && stats.complete) {
    const held = field.occurrences - field.nulls;
    if (held < rows || rejected.length > 0)
      problems.push({
        path: `${cPath}.nullable`,
        reason: `${label} is NOT NULL, but ${field.name} has a value it holds in only ${held - count(field, rejected)} of ${rows} rows; the other documents would be rejected`,
      });
  }
  const outside = values.dates?.outsidePostgres ?? 0;
  if (outside > 0 && type.base === 'timestamptz')
    warnings.push({
      path: cPath,
      reason: `${outside} date(s) at ${values.name} are outside timestamptz: those documents will be rejected`,
    });
  const nul = values.strings?.withNul ?? 0;
  if (nul > 0)
    warnings.push({
      path: cPath,
      reason: `${nul} string(s) at ${values.name} contain NUL: those documents will be rejected`,
    });
}

/** The BSON types a column stores exactly, mirroring the column codec. */
const ANY_VALUE_TYPES: readonly BsonTypeName[] = BSON_TYPE_NAMES.filter((t) => t !== 'null');

function acceptedTypes(type: PgTypeInfo, sourceType: ColumnPlan['sourceType']): readonly BsonTypeName[] {
  switch (sourceType) {
    case 'any':
      // jsonb holds every value; null is not a value type but the absence of one here.
      return ANY_VALUE_TYPES;
    case 'number':
      switch (type.base) {
        case 'integer':
          return ['int'];
        case 'bigint':
          return ['int', 'long', 'double'];
        case 'double precision':
          return ['int', 'long', 'double'];
        case 'numeric':
          return ['int', 'long', 'decimal'];
        default:
          return [];
      }
    default:
      return [sourceType];
  }
}

/** Why numbers of accepted types still do not all fit (the types themselves were fine). */
function rangeProblem(type: PgTypeInfo, field: FieldSnapshot): string | undefined {
  const n = field.numbers;
  if (!n || !valueTypes(field).some((t) => NUMBERS.includes(t))) return undefined;
  switch (type.base) {
    case 'integer':
      return n.fitsInt32
        ? undefined
        : `values ${n.min}…${n.max} do not all fit integer (int32); use bigint or numeric`;
    case 'bigint':
      return n.fitsInt64
        ? undefined
        : `values ${n.min}…${n.max} are not all whole numbers within int64; use numeric or double precision`;
    case 'double precision': {
      if (!valueTypes(field).includes('long')) return undefined;
      const big = [n.min, n.max].some((x) => x !== null && Math.abs(Number(x)) > 2 ** 53);
      return big
        ? `long values beyond 2^53 (${n.min}…${n.max}) would be rounded; use numeric or bigint`
        : undefined;
    }
    case 'numeric': {
      if (type.precision === undefined) return undefined;
      const scale = type.scale ?? 0;
      const maxScale = Math.max(n.decimal?.maxScale ?? 0, n.double?.maxScale ?? 0);
      if (maxScale > scale)
        return `values with scale ${maxScale} do not fit numeric(${type.precision},${scale}); they would be rounded`;
      const digits = Math.max(integerDigits(n.min), integerDigits(n.max));
      if (digits > type.precision - scale)
        return `values up to ${digits} digits before the point (${n.min}…${n.max}) do not fit numeric(${type.precision},${scale})`;
      return undefined;
    }
    default:
      return undefined;
  }
}

function integerDigits(text: string | null): number {
  if (text === null) return 0;
  const shape = decimalShape(text);
  if (!shape) return 0;
  const whole = text.replace(/^-/, '').split(/[.eE]/)[0] ?? '';
  return /[eE]/.test(text)
    ? String(BigInt(Math.trunc(Math.abs(Number(text))))).length
    : whole.replace(/^0+/, '').length;
}

function count(field: FieldSnapshot, types: readonly BsonTypeName[]): number {
  return types.reduce((sum, t) => sum + (field.types[t] ?? 0), 0);
}

function describe(field: FieldSnapshot, types: readonly BsonTypeName[]): string {
  return types.map((t) => `${field.types[t]} ${t} value(s)`).join(', ');
}

function hint(types: readonly BsonTypeName[]): string {
  if (types.some((t) => t === 'object' || t === 'array'))
    return '; use jsonb, or map the field as columns or a child table';
  if (types.every((t) => NUMBERS.includes(t)))
    return '; use a wider numeric type (bigint, double precision, numeric)';
  return '; use jsonb (sourceType "any") to keep every type';
}
