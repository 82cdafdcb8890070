import type { CollectionPlan, TablePlan } from '../mapping/model.js';
import type { PlanProblem } from '../mapping/validate-plan.js';
import { ANY_KEY, ELEMENT, type FieldPath, formatPath, keySegment } from './field-path.js';
import { realKey } from './propose-context.js';
import { scalarChoice, valueTypes } from './propose-types.js';
import type { FieldSnapshot } from './snapshot.js';

/**
 * Fields of a table's element that the mapping does not place anywhere (no column, child
 * table or discriminator takes them, nor an enclosing object): a field added to the source
 * after the mapping was written. Their values go to `_extra`, which loses nothing, but the
 * user should decide; so each is reported as "new field, not mapped" with the column that
 * would map it, ready to paste into the table's `columns` (nullable: rows loaded before have
 * no value, and `ferry schema apply` adds a nullable column in place and reloads only this
 * collection).
 *
 * @example
 * declare const collection: CollectionPlan;
 * declare const table: TablePlan;
 * declare const fields: ReadonlyMap<string, FieldSnapshot>;
 * unmappedFields(collection, table, [], fields, 'collections[0].tables[0]');
 * // [{ path: 'collections[0].tables[0].columns', reason: 'new field, not mapped: tier (in 10 of 10 …' }]
 */
export function unmappedFields(
  collection: CollectionPlan,
  table: TablePlan,
  element: FieldPath,
  fields: ReadonlyMap<string, FieldSnapshot>,
  tPath: string,
): PlanProblem[] {
  const claims: FieldPath[] = [
    ...table.columns.map((c) => c.path.map(keySegment)),
    ...(table.discriminators ?? [])
      .flatMap((d) => [d.path, ...(d.kindPath ? [d.kindPath] : [])])
      .map(segments),
  ];
  for (const child of collection.tables)
    if (child.parent?.table === table.name) claims.push(segments(child.parent.path));
  if (table.parent === undefined) claims.push(['_id']);
  return (
    unclaimed(element, fields, claims)
      // Only nulls, or only empty objects: inference keeps those in `_extra` on purpose.
      .filter((field) => valueTypes(field).length > 0 && !alwaysEmptyObject(field))
      .map((field) => ({ path: `${tPath}.columns`, reason: proposal(field, element) }))
  );
}

function alwaysEmptyObject(field: FieldSnapshot): boolean {
  const types = valueTypes(field);
  return types.length === 1 && types[0] === 'object' && field.objects?.maxKeys === 0;
}

function segments(path: readonly string[]): FieldPath {
  return path.map(keySegment);
}

/** The topmost fields under `element` that no claim covers, nor leads into. */
function unclaimed(
  element: FieldPath,
  fields: ReadonlyMap<string, FieldSnapshot>,
  claims: readonly FieldPath[],
): FieldSnapshot[] {
  const out: FieldSnapshot[] = [];
  const startsWith = (path: FieldPath, prefix: FieldPath) =>
    prefix.length <= path.length && prefix.every((s, i) => s === path[i]);
  const reported: FieldPath[] = [];
  const sorted = [...fields.values()].sort((a, b) => a.path.length - b.path.length);
  for (const field of sorted) {
    if (!startsWith(field.path, element) || field.path.length === element.length) continue;
    const rel = field.path.slice(element.length);
    if (rel.some((s) => s === ELEMENT || s === ANY_KEY)) continue;
    if (claims.some((claim) => startsWith(rel, claim) || startsWith(claim, rel))) continue;
    if (reported.some((r) => startsWith(rel, r))) continue;
    reported.push(rel);
    out.push(field);
  }
  return out;
}

function proposal(field: FieldSnapshot, element: FieldPath): string {
  const rel = field.path.slice(element.length).map(realKey);
  const types = valueTypes(field);
  const whole = types.length === 1 && (types[0] === 'object' || types[0] === 'array');
  const choice = whole ? { pgType: 'jsonb', sourceType: types[0] as string } : scalarChoice(field);
  const name = rel
    .join('_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .toLowerCase();
  const column = { name, path: rel, pgType: choice.pgType, sourceType: choice.sourceType, nullable: true };
  return (
    `new field, not mapped: ${formatPath(field.path)} (in ${field.present} of ${field.parentCount} ` +
    `documents, ${types.join('/')}); its values go to _extra. To map it, add the column ` +
    `${JSON.stringify(column)} and run \`ferry schema apply\``
  );
}
