import type { ColumnPlan } from '../../mapping/model.js';
import { columnName, uniqueName } from '../../mapping/names.js';
import { ELEMENT, formatPath } from '../field-path.js';
import type { FieldSnapshot } from '../snapshot.js';
import {
  type DraftTable,
  dataField,
  decisionOf,
  locate,
  type MergeContext,
  note,
  samePath,
  takenNames,
  typeRule,
  valuesAt,
  warnModel,
} from './merge-context.js';
import { valueKey } from './model-observations.js';
import type { ModelField } from './model-schema.js';

/**
 * One declared path of a model against the column the data proposed for it. The rules of
 * `ferry infer --models`: the data's type wins whenever the data holds values (a conflicting
 * model type is a warning, never a narrower column that would lose values); the model decides
 * alone where the data is silent; a claim that constrains (NOT NULL, CHECK, foreign key) is
 * kept only where the data does not contradict it.
 */
export function mergeField(context: MergeContext, field: ModelField): void {
  if (field.type === 'Subdocument' || (field.type === 'Array' && field.of === 'Subdocument')) {
    noteContainer(context, field);
    return;
  }
  if (field.type === 'Map') {
    mergeMap(context, field);
    return;
  }
  const elementPath = field.type === 'Array' ? [...field.path, ELEMENT] : field.path;
  // An array of ids the data moved to a child table (one row per id) has its column there.
  const place =
    (field.type === 'Array' ? locate(context.collection, elementPath) : undefined) ??
    locate(context.collection, field.path);
  if (!place) return;
  const column = place.table.columns.find((c) => samePath(c.path, place.rel));
  const index = column ? decisionOf(context, place.table.name, column.name) : -1;
  if (!column) {
    // No column, but the data placed the field (in _extra, or as an id-typed discriminator).
    const placed = context.decisions.findIndex(
      (d) => d.table === place.table.name && d.path === formatPath(field.path),
    );
    const where =
      context.decisions[placed]?.rule === 'extra' ? 'kept in _extra' : "the data's placement is kept";
    if (placed >= 0) note(context, placed, 'data', [`declared ${describeType(field)}; ${where}`]);
    else addModelColumn(context, field, place.table, place.rel);
    return;
  }
  const data = dataField(context, elementPath);
  const says: string[] = [];
  let decidedBy: 'data' | 'model' | 'both' = 'both';
  let updated: ColumnPlan = column;
  const rule = typeRule(field.type === 'Array' ? (field.of ?? 'Mixed') : field.type);
  const silent = valuesAt(data) === 0;
  if (silent) {
    // Only nulls (or empty arrays) were seen: the model's type is the only evidence.
    const pgType = field.type === 'Array' && rule.pgType !== 'jsonb' ? `${rule.pgType}[]` : rule.pgType;
    updated = { ...updated, pgType, sourceType: rule.sourceType };
    decidedBy = 'model';
    says.push(`${describeType(field)}: the type (the data holds no values)`);
  } else if (rule.agrees.includes(column.sourceType)) {
    says.push(describeType(field));
  } else {
    decidedBy = 'data';
    says.push(`declares ${describeType(field)}; the data's type is kept`);
    warnModel(
      context,
      'MODEL_TYPE_CONFLICT',
      field,
      `the model declares ${describeType(field)}, but the data holds ${typesOf(data)}: the column stays ${column.pgType} (the data's type), so no value is lost; clean the data (or fix the model) and infer again`,
    );
  }
  if (field.required) updated = mergeRequired(context, field, updated, data, says);
  if (field.ref) updated = mergeRef(context, field, updated, says);
  if (field.enum) updated = mergeEnum(context, field, updated, elementPath, says);
  if (field.timestamp) says.push(`timestamps (${field.timestamp})`);
  replaceColumn(place.table, column, updated);
  note(context, index, decidedBy, says, { pgType: updated.pgType, nullable: updated.nullable });
}

function mergeRequired(
  context: MergeContext,
  field: ModelField,
  column: ColumnPlan,
  data: FieldSnapshot | undefined,
  says: string[],
): ColumnPlan {
  if (!column.nullable) {
    says.push('required: NOT NULL (the data agrees)');
    return column;
  }
  says.push('required, but the column stays nullable (the data disagrees)');
  const missing = data ? data.parentCount - data.present : 0;
  const nulls = data?.nulls ?? 0;
  const why = !context.snapshot.complete
    ? 'only a sample was read, so no column is NOT NULL'
    : `${missing} of ${data?.parentCount ?? 0} lack it and ${nulls} hold null`;
  warnModel(
    context,
    'MODEL_REQUIRED_NOT_IN_DATA',
    field,
    `the model requires it, but ${why}: the column stays nullable so those documents load`,
  );
  return column;
}

function mergeRef(context: MergeContext, field: ModelField, column: ColumnPlan, says: string[]): ColumnPlan {
  const targetModel = context.modelsByName.get(field.ref!);
  const target = targetModel ? context.ids.get(targetModel.collection) : undefined;
  if (!targetModel || !target) {
    says.push(`ref ${field.ref}: no foreign key (not in the source)`);
    warnModel(
      context,
      'MODEL_REFERENCE_UNKNOWN',
      field,
      targetModel
        ? `ref ${field.ref} stores in ${targetModel.collection}, which the source does not have: no foreign key`
        : `ref ${field.ref} names no model the modules registered: no foreign key`,
    );
    return column;
  }
  if (column.references) {
    const agrees = column.references.table === target.table;
    says.push(agrees ? `ref ${field.ref}: foreign key (the data agrees)` : `ref ${field.ref}`);
    return column;
  }
  if (column.pgType !== target.pgType) {
    says.push(`ref ${field.ref}: no foreign key (${column.pgType} cannot reference ${target.pgType})`);
    return column;
  }
  const dangling = provenDangling(context, field, targetModel.collection);
  if (dangling !== undefined) {
    says.push(`ref ${field.ref}: no foreign key (ids point nowhere)`);
    warnModel(
      context,
      'MODEL_REFERENCE_DANGLING',
      field,
      `ref ${field.ref}: ${dangling}% of the ids point at no document of ${targetModel.collection}, so a foreign key would fail after the load; clean them up and add it`,
    );
    return column;
  }
  says.push(`ref ${field.ref}: foreign key to ${target.table}.${target.column} (the model)`);
  return { ...column, references: { table: target.table, column: target.column } };
}

/**
 * The share of dangling ids (percent, or a bound) when the data proves some exist: every
 * document and every target id was read, so the overlap is exact. A sample's low overlap
 * proves nothing, and then the model's foreign key stands.
 */
function provenDangling(context: MergeContext, field: ModelField, collection: string): string | undefined {
  const target = context.inference.collections.find((c) => c.name === collection);
  const ids = dataField(context, field.path)?.ids?.objectId;
  if (!context.snapshot.complete || !target?.complete || !target.idsComplete || !ids) return undefined;
  const finding = context.inference.references.find(
    (r) => r.collection === context.snapshot.name && r.name === formatPath(field.path),
  );
  const match = finding?.kinds
    .find((k) => k.kind === 'objectId')
    ?.targets.find((t) => t.collection === collection);
  // Below the detector's listing threshold there is no finding at all: nearly every id dangles.
  if (!match) return ids.exact && ids.distinct > 0 ? 'more than 95' : undefined;
  // An estimate (sketches over many ids) proves dangling ids only when clearly below 1.
  if (match.overlap >= 1 || (!match.exact && match.overlap >= 0.95)) return undefined;
  return String(Math.round((1 - match.overlap) * 1000) / 10);
}

function mergeEnum(
  context: MergeContext,
  field: ModelField,
  column: ColumnPlan,
  valuePath: readonly string[],
  says: string[],
): ColumnPlan {
  const allowed = field.enum!;
  const strings = allowed.every((v) => typeof v === 'string');
  const numbers = allowed.every((v) => typeof v === 'number');
  const base = column.pgType.replace(/\[\]$/, '');
  const fits = strings
    ? base === 'text'
    : numbers && ['integer', 'bigint', 'double precision', 'numeric'].includes(base);
  if (!fits) {
    says.push(`enum: no CHECK (a ${column.pgType} column)`);
    return column;
  }
  const seen = context.observed.values(context.collection.name, valuePath);
  const keys = new Set(allowed.map((v) => valueKey(v)));
  const outside = seen ? [...seen.distinct].filter(([key]) => !keys.has(key)) : [];
  const outsideCount = outside.reduce((sum, [, n]) => sum + n, 0) + (seen?.other ?? 0);
  if (seen?.overflow || outsideCount > 0) {
    says.push('enum: no CHECK (the data holds other values)');
    warnModel(
      context,
      'MODEL_ENUM_NOT_IN_DATA',
      field,
      `the model allows ${allowed.length} value(s), but the data holds ${seen?.overflow ? 'more than 256 distinct values' : `${outside.length + (seen?.other ? 1 : 0)} other value(s) ${outsideCount} time(s)`}: no CHECK, so those documents load; clean them up and add it`,
    );
    return column;
  }
  says.push(`enum of ${allowed.length}: CHECK`);
  return { ...column, allowed: [...allowed] };
}

/** A declared field the data never held: a nullable column of the model's type, so later writes have one. */
function addModelColumn(context: MergeContext, field: ModelField, table: DraftTable, rel: string[]): void {
  if (rel.length === 0 || field.path[field.path.length - 1] === context.model.versionKey) return;
  if (rel.length === 1 && rel[0] === '_id' && table.parent === undefined) return;
  const rule = typeRule(field.type === 'Array' ? (field.of ?? 'Mixed') : field.type);
  const pgType = field.type === 'Array' && rule.pgType !== 'jsonb' ? `${rule.pgType}[]` : rule.pgType;
  const name = uniqueName(columnName(rel), takenNames(table));
  let column: ColumnPlan = {
    name,
    path: rel,
    pgType,
    sourceType: field.type === 'Array' && rule.pgType === 'jsonb' ? 'array' : rule.sourceType,
    nullable: true,
  };
  const says: string[] = [`${describeType(field)}: a nullable column (the data never holds it)`];
  if (field.ref) column = mergeRef(context, field, column, says);
  if (field.enum)
    column = mergeEnum(
      context,
      field,
      column,
      field.type === 'Array' ? [...field.path, ELEMENT] : field.path,
      says,
    );
  if (field.timestamp) says.push(`timestamps (${field.timestamp})`);
  table.columns.push(column);
  context.decisions.push({
    table: table.name,
    column: name,
    path: formatPath(field.path),
    rule: column.references ? 'reference' : field.type === 'Array' ? 'array-column' : 'scalar',
    pgType: column.pgType,
    nullable: true,
    evidence: 'not in the data',
    reason: 'declared by the model only',
    decidedBy: 'model',
    model: says.join('; '),
  });
}

/** A Map: its own type (a map child table or one jsonb column), even where the data saw stable keys. */
function mergeMap(context: MergeContext, field: ModelField): void {
  const name = formatPath(field.path);
  const index = context.decisions.findIndex((d) => d.path === name && d.rule !== 'extra');
  const decision = context.decisions[index];
  if (decision && (decision.rule === 'map-child' || decision.rule === 'map-jsonb')) {
    note(context, index, 'both', [`Map of ${field.of}`]);
    return;
  }
  const place = locate(context.collection, field.path);
  if (!place || place.rel.length === 0) return;
  const { table, rel } = place;
  const inside = (path: readonly string[]) =>
    path.length > rel.length && samePath(path.slice(0, rel.length), rel);
  if (decision && decision.rule !== 'flatten') {
    note(context, index, 'data', [`declares a Map of ${field.of}; the data's shape is kept`]);
    return;
  }
  const nested = context.collection.tables.some(
    (t) => t.parent?.table === table.name && inside(t.parent.path),
  );
  if (nested) return;
  // The data saw a few stable keys and flattened them; the model says the keys are data.
  table.columns = table.columns.filter((c) => !inside(c.path));
  context.decisions = context.decisions.filter((d) => !(d.path === name || d.path.startsWith(`${name}.`)));
  const column: ColumnPlan = {
    name: uniqueName(columnName(rel), takenNames(table)),
    path: rel,
    pgType: 'jsonb',
    sourceType: 'object',
    nullable: true,
  };
  table.columns.push(column);
  context.decisions.push({
    table: table.name,
    column: column.name,
    path: name,
    rule: 'map-jsonb',
    pgType: 'jsonb',
    nullable: true,
    evidence: decision ? decision.evidence : 'not in the data',
    reason:
      'the model declares a Map (its keys are data): one jsonb column keeps every key, present and future',
    decidedBy: 'model',
    model: `Map of ${field.of}${decision ? ', where the data alone saw stable keys and flattened them' : ''}`,
  });
}

function noteContainer(context: MergeContext, field: ModelField): void {
  const name = formatPath(field.path);
  const index = context.decisions.findIndex((d) => d.path === name);
  if (index < 0) return;
  const d = context.decisions[index]!;
  const agrees = field.type === 'Subdocument' ? d.rule === 'flatten' : d.rule === 'array-child';
  note(context, index, agrees ? 'both' : 'data', [
    field.type === 'Subdocument' ? 'a sub-document' : 'an array of sub-documents',
  ]);
}

function replaceColumn(table: DraftTable, old: ColumnPlan, updated: ColumnPlan): void {
  if (old === updated) return;
  table.columns = table.columns.map((c) => (c === old ? updated : c));
}

function describeType(field: ModelField): string {
  return field.type === 'Array' || field.type === 'Map'
    ? `${field.type} of ${field.of ?? 'Mixed'}`
    : field.type;
}

function typesOf(field: FieldSnapshot | undefined): string {
  if (!field) return 'nothing';
  return Object.entries(field.types)
    .filter(([t]) => t !== 'null')
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
}
