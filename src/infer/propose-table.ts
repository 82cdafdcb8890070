import type { ParentLink } from '../mapping/model.js';
import { EXTRA_COLUMN } from '../mapping/model.js';
import { childTableName, uniqueName } from '../mapping/names.js';
import { ANY_KEY, ELEMENT } from './field-path.js';
import {
  addColumn,
  type DraftTable,
  type ElementScope,
  pathKey,
  presenceText,
  RARE_PRESENCE,
  realKey,
  type TableContext,
  warn,
} from './propose-context.js';
import {
  danglingReason,
  describeTargets,
  placeDiscriminator,
  referenceTarget,
} from './propose-references.js';
import { arrayChoice, keptInJsonb, scalarChoice, type TypeChoice, valueTypes } from './propose-types.js';
import type { FieldSnapshot } from './snapshot.js';

/**
 * The table walk of a proposal: each field of an element to a column, a flattened group of
 * columns, a child table (arrays of sub-documents, maps) or `_extra`, by DESIGN.md's rules.
 */

/** Start a table (and register it, so parents precede children in the plan). */
export function startTable(context: TableContext, base: string, parent?: ParentLink): ElementScope['table'] {
  const name = uniqueName(base, context.tableNames);
  context.tableNames.add(name);
  const table: DraftTable = {
    name,
    ...(parent ? { parent } : {}),
    columns: [],
    discriminators: [],
    present: new Map(),
    decisions: new Map(),
  };
  context.tables.push(table);
  return table;
}

/** Place every named field of the object at `scope.elementPath + rel`. */
export function placeObject(context: TableContext, scope: ElementScope, rel: readonly string[]): void {
  const base = [...scope.elementPath, ...rel.map(segmentOf)];
  for (const field of context.children.get(pathKey(base)) ?? []) {
    const last = field.path[field.path.length - 1]!;
    if (last === ELEMENT || last === ANY_KEY) continue;
    const key = realKey(last);
    if (scope.elementPath.length === 0 && rel.length === 0 && key === '_id') continue;
    placeField(context, scope, field, [...rel, key]);
  }
}

function segmentOf(key: string): string {
  return key === ELEMENT || key === ANY_KEY || key.startsWith('\\') ? `\\${key}` : key;
}

function placeField(context: TableContext, scope: ElementScope, field: FieldSnapshot, rel: string[]): void {
  const types = valueTypes(field);
  const presence = presenceText(field, scope);
  noteRare(context, scope, field);
  const finding = context.references.get(pathKey(field.path));
  if (finding?.verdict === 'polymorphic' && types.every((t) => t === 'objectId' || t === 'string')) {
    if (placeDiscriminator(context, scope, field, rel, finding, presence)) return;
  }
  if (types.length === 1 && types[0] === 'object') {
    const map = field.objects?.map;
    if (map?.isMap) {
      placeMap(context, scope, field, rel, presence);
      return;
    }
    const inner = context.children.get(pathKey(field.path)) ?? [];
    if (inner.length === 0) {
      context.decisions.push({
        table: scope.table.name,
        path: field.name,
        rule: 'extra',
        evidence: `${presence}; always an empty object`,
        reason: 'no keys to make columns of; the empty object is kept in _extra so it round-trips',
      });
      return;
    }
    const geo = isGeoJsonPoint(context, field);
    context.decisions.push({
      table: scope.table.name,
      path: field.name,
      rule: geo ? 'geojson' : 'flatten',
      evidence: `${presence}; ${field.objects?.map.evidence.distinctKeys ?? 0} stable keys`,
      reason: geo
        ? 'a GeoJSON Point ({type, coordinates}): flattened to a text column and a double precision[] column, which keep every value exactly and are queryable; jsonb was not chosen because the shape is fixed. A PostGIS point can be derived later with ST_MakePoint(coordinates[1], coordinates[2])'
        : 'an object with stable keys: flattened into parent_child columns',
    });
    placeObject(context, scope, rel);
    return;
  }
  if (types.length === 1 && types[0] === 'array') {
    placeArray(context, scope, field, rel, presence);
    return;
  }
  if (types.includes('object') || types.includes('array')) {
    const conflict = types.map((t) => `${t} ${field.types[t]}`).join(', ');
    addColumn(context, scope, field, rel, presence, {
      choice: keptInJsonb(`mixed types: ${conflict}`),
      rule: 'conflict-jsonb',
      reason: 'values are sometimes containers and sometimes not; jsonb holds every one exactly',
    });
    warn(context, 'TYPE_CONFLICT', field, `values of ${types.length} types (${conflict}); kept in jsonb`);
    return;
  }
  const choice = scalarChoice(field);
  if (choice.conflict !== undefined) warn(context, 'TYPE_CONFLICT', field, choice.conflict);
  noteUnloadable(context, field);
  const target = finding?.verdict === 'reference' ? referenceTarget(context, finding, choice) : undefined;
  const dangling = finding ? danglingReason(finding) : undefined;
  if (dangling) warn(context, 'DANGLING_REFERENCE', field, dangling);
  if (finding?.verdict === 'weak')
    warn(
      context,
      'WEAK_REFERENCE',
      field,
      `${describeTargets(finding)}: coverage ${finding.coverage} is too low for a foreign key (dangling ids, or a coincidence)`,
    );
  if (finding?.verdict === 'polymorphic')
    warn(
      context,
      'AMBIGUOUS_REFERENCE',
      field,
      `${describeTargets(finding)} with one id kind: no foreign key; the id alone cannot tell the kind (add a discriminator with a kindPath if a sibling field names it)`,
    );
  addColumn(context, scope, field, rel, presence, {
    choice,
    rule: target ? 'reference' : choice.conflict ? 'conflict-jsonb' : 'scalar',
    reason: target
      ? `ids of ${describeTargets(finding!)}: a foreign key to ${target.table}.${target.column}`
      : (choice.conflict ?? reasonFor(choice)),
    ...(target ? { references: { table: target.table, column: target.column } } : {}),
  });
}

function placeArray(
  context: TableContext,
  scope: ElementScope,
  field: FieldSnapshot,
  rel: string[],
  presence: string,
): void {
  const element = context.fields.get(pathKey([...field.path, ELEMENT]));
  const a = field.arrays;
  const lengths = a ? `length ${a.minLength}…${a.maxLength}` : 'no arrays';
  if (element === undefined) {
    addColumn(context, scope, field, rel, presence, {
      choice: { pgType: 'jsonb', sourceType: 'array', exact: true, evidence: 'always empty' },
      rule: 'array-jsonb',
      reason: 'every array was empty, so the element type is unknown; jsonb accepts whatever comes later',
    });
    return;
  }
  const types = valueTypes(element);
  const finding = context.references.get(pathKey(element.path));
  if (types.length === 1 && types[0] === 'object' && !element.objects?.map.isMap) {
    const child = childTable(context, scope, rel, 'array', element);
    context.decisions.push({
      table: child.table.name,
      column: child.table.name,
      path: field.name,
      rule: 'array-child',
      evidence: `${presence}; ${lengths}, ${element.occurrences} sub-documents`,
      reason: `an array of sub-documents: child table ${child.table.name} keyed by (${child.table.parent!.columns.join(', ')}, idx)`,
    });
    placeObject(context, child, []);
    return;
  }
  const dangling = finding ? danglingReason(finding) : undefined;
  if (dangling) warn(context, 'DANGLING_REFERENCE', field, dangling);
  if (finding?.verdict === 'reference' && types.length === 1) {
    const choice = scalarChoice(element);
    const target = referenceTarget(context, finding, choice);
    if (target) {
      const child = childTable(context, scope, rel, 'array', element);
      context.decisions.push({
        table: child.table.name,
        column: child.table.name,
        path: field.name,
        rule: 'array-child',
        evidence: `${presence}; ${lengths}`,
        reason: `an array of ids of ${describeTargets(finding)}: a child table, so each id can carry a foreign key`,
      });
      addColumn(context, child, element, [], presenceText(element, child), {
        choice,
        rule: 'reference',
        reason: `a foreign key to ${target.table}.${target.column}`,
        references: { table: target.table, column: target.column },
        name: 'value',
      });
      return;
    }
  }
  const choice = arrayChoice(element);
  if (choice) {
    noteUnloadable(context, element);
    addColumn(context, scope, field, rel, presence, {
      choice: { ...choice, evidence: `${lengths}; elements ${choice.evidence}` },
      rule: 'array-column',
      reason: `an array of scalars of one type: a PostgreSQL ${choice.pgType} keeps order and every value`,
    });
    return;
  }
  const mixed = types.map((t) => `${t} ${element.types[t]}`).join(', ');
  addColumn(context, scope, field, rel, presence, {
    choice: { pgType: 'jsonb', sourceType: 'array', exact: true, evidence: `${lengths}; elements ${mixed}` },
    rule: 'array-jsonb',
    reason: 'the elements are arrays, maps or of mixed types; jsonb keeps the array exactly',
  });
  if (types.length > 1)
    warn(
      context,
      'TYPE_CONFLICT',
      element,
      `array elements of mixed types (${mixed}); the array is kept in jsonb`,
    );
}

function placeMap(
  context: TableContext,
  scope: ElementScope,
  field: FieldSnapshot,
  rel: string[],
  presence: string,
): void {
  const verdict = field.objects!.map;
  const e = verdict.evidence;
  const evidence = `${presence}; ${e.distinctKeys}${e.distinctKeysExact ? '' : '+'} distinct keys (${verdict.reasons.join(', ')}), e.g. ${e.exampleKeys.slice(0, 3).join(', ')}`;
  const values = context.fields.get(pathKey([...field.path, ANY_KEY]));
  const types = values ? valueTypes(values) : [];
  const structs = types.length === 1 && types[0] === 'object' && !values?.objects?.map.isMap;
  const scalar = values && !structs ? scalarOf(values) : undefined;
  if (values && (structs || scalar)) {
    const child = childTable(context, scope, rel, 'map', values);
    context.decisions.push({
      table: child.table.name,
      column: child.table.name,
      path: field.name,
      rule: 'map-child',
      evidence,
      reason: `keys are data, values share one shape: child table ${child.table.name} keyed by (${child.table.parent!.columns.join(', ')}, key)`,
    });
    warn(
      context,
      'MAP_SHAPED',
      field,
      `keys are data (${verdict.reasons.join(', ')}; e.g. ${e.exampleKeys.slice(0, 3).join(', ')}): a child table with one row per key`,
    );
    if (structs) placeObject(context, child, []);
    else
      addColumn(context, child, values, [], presenceText(values, child), {
        choice: scalar!,
        rule: 'scalar',
        reason: reasonFor(scalar!),
        name: 'value',
      });
    return;
  }
  addColumn(context, scope, field, rel, presence, {
    choice: { pgType: 'jsonb', sourceType: 'object', exact: true, evidence: e.exampleKeys.join(', ') },
    rule: 'map-jsonb',
    reason:
      'keys are data and the values vary in shape (nested maps, arrays or mixed types); one jsonb column keeps the map whole',
  });
  warn(
    context,
    'MAP_SHAPED',
    field,
    `keys are data (${verdict.reasons.join(', ')}); values vary in shape, so the map is one jsonb column`,
  );
}

function scalarOf(values: FieldSnapshot): TypeChoice | undefined {
  const types = valueTypes(values);
  if (types.length === 0 || types.includes('object') || types.includes('array')) return undefined;
  const choice = scalarChoice(values);
  return choice.conflict === undefined ? choice : undefined;
}

function childTable(
  context: TableContext,
  scope: ElementScope,
  rel: readonly string[],
  shape: 'array' | 'map',
  element: FieldSnapshot,
): ElementScope {
  const parentKey = keyOf(scope.table);
  const taken = new Set<string>([EXTRA_COLUMN]);
  const columns = parentKey.map((k) => {
    const name = uniqueName(k.startsWith('parent_') ? k : `parent_${k}`, taken);
    taken.add(name);
    return name;
  });
  const ordinal = uniqueName(shape === 'array' ? 'idx' : 'key', taken);
  taken.add(ordinal);
  const table = startTable(context, childTableName(scope.table.name, rel), {
    table: scope.table.name,
    path: [...rel],
    shape,
    columns,
    ordinal,
  });
  return { table, taken, elementPath: element.path, elementCount: element.occurrences };
}

function keyOf(table: DraftTable): string[] {
  if (table.parent) return [...table.parent.columns, table.parent.ordinal];
  const id = table.columns.find((c) => c.path.length === 1 && c.path[0] === '_id');
  return [id?.name ?? 'id'];
}

function reasonFor(choice: TypeChoice): string {
  if (choice.sourceType === 'number')
    return `mixed numbers: ${choice.pgType} holds all of them exactly (the widest exact type)`;
  if (choice.pgType === 'uuid') return 'an ObjectId: the reversible uuid';
  if (choice.pgType === 'jsonb') return 'no native PostgreSQL type holds these values exactly';
  return `${choice.sourceType} → ${choice.pgType}`;
}

function noteRare(context: TableContext, scope: ElementScope, field: FieldSnapshot): void {
  if (scope.elementCount === 0 || field.present / scope.elementCount >= RARE_PRESENCE) return;
  warn(
    context,
    'RARE_FIELD',
    field,
    `present in ${field.present} of ${scope.elementCount} ${scope.elementPath.length === 0 ? 'documents' : 'elements'}: mapped anyway (nullable)`,
  );
}

function noteUnloadable(context: TableContext, field: FieldSnapshot): void {
  const outside = field.dates?.outsidePostgres ?? 0;
  if (outside > 0)
    warn(
      context,
      'DATES_OUT_OF_RANGE',
      field,
      `${outside} date(s) outside PostgreSQL's timestamptz range: those documents will be rejected with a reason, never shifted`,
    );
  const nul = field.strings?.withNul ?? 0;
  if (nul > 0)
    warn(
      context,
      'STRINGS_WITH_NUL',
      field,
      `${nul} string(s) contain NUL, which PostgreSQL text cannot store: those documents will be rejected`,
    );
}

function isGeoJsonPoint(context: TableContext, field: FieldSnapshot): boolean {
  const inner = context.children.get(pathKey(field.path)) ?? [];
  const names = inner.map((f) => f.path[f.path.length - 1]).sort();
  if (names.join(',') !== 'coordinates,type') return false;
  const coordinates = inner.find((f) => f.path[f.path.length - 1] === 'coordinates');
  const elementTypes = Object.keys(coordinates?.arrays?.elementTypes ?? {});
  return elementTypes.length > 0 && elementTypes.every((t) => t === 'double' || t === 'int');
}
