import { EJSON } from 'bson';
import { FerryError } from '../core/errors.js';
import {
  type CollectionPlan,
  PLAN_VERSION,
  type Plan,
  physicalColumns,
  type SourceIndexPlan,
  type TablePlan,
} from '../mapping/model.js';
import { pgIdentifier, snakeCase, uniqueName } from '../mapping/names.js';
import { checkPlan } from '../mapping/validate-plan.js';
import type { IndexSpec } from '../sources/types.js';
import { comparePaths } from './field-path.js';
import { appendOnlyVerdict } from './propose-append-only.js';
import {
  addColumn,
  type DraftTable,
  type ElementScope,
  type IdTarget,
  pathKey,
  presenceText,
  type TableContext,
} from './propose-context.js';
import { placeObject } from './propose-table.js';
import { keptInJsonb, scalarChoice, type TypeChoice, valueTypes } from './propose-types.js';
import type { CollectionReport, Decision, InferenceReport, ReportWarning } from './report.js';
import type { CollectionSnapshot, FieldSnapshot, InferenceSnapshot } from './snapshot.js';

/** DESIGN.md: no proposed table gets more columns than this; the rarest fields spill to `_extra`. */
export const DEFAULT_MAX_COLUMNS = 100;

/** Options of `proposeMapping`. */
export interface ProposeOptions {
  /** The source's indexes per collection (from `listCollections`), carried into the plan. */
  readonly indexes?: Readonly<Record<string, readonly IndexSpec[]>>;
  /** Physical columns per table, structural ones and `_extra` included (default 100). */
  readonly maxColumns?: number;
}

/** A proposed mapping and the report that explains it. */
export interface Proposal {
  readonly plan: Plan;
  readonly report: InferenceReport;
}

/**
 * Turn inference statistics into a mapping plan, following DESIGN.md "Mapping rules", and
 * explain every decision. Deterministic: the same snapshot gives the same plan and report.
 * The plan passes `checkPlan`, and `toRows`/`toDoc` round-trip every document the statistics
 * came from (values a column cannot hold exactly go to `_extra`, never lost).
 *
 * @example
 * declare const source: Source;
 * declare const indexes: Record<string, readonly IndexSpec[]>;
 * const stats = await collectStats(source);
 * const { plan, report } = proposeMapping(stats.snapshot(), { indexes });
 * report.warnings.map((w) => `${w.collection}.${w.path}: ${w.message}`);
 */
export function proposeMapping(snapshot: InferenceSnapshot, options: ProposeOptions = {}): Proposal {
  const maxColumns = options.maxColumns ?? DEFAULT_MAX_COLUMNS;
  const tableNames = new Set<string>();
  const roots = new Map<string, { name: string; id: TypeChoice; idField: FieldSnapshot | undefined }>();
  for (const collection of snapshot.collections) {
    const name = uniqueName(pgIdentifier(snakeCase(collection.name)), tableNames);
    tableNames.add(name);
    const idField = collection.fields.find((f) => f.path.length === 1 && f.path[0] === '_id');
    roots.set(collection.name, { name, id: idChoice(idField), idField });
  }
  const ids = new Map<string, IdTarget>(
    [...roots].map(([collection, root]) => [
      collection,
      { table: root.name, column: 'id', pgType: root.id.pgType },
    ]),
  );
  const collections: CollectionPlan[] = [];
  const reports: CollectionReport[] = [];
  const warnings: ReportWarning[] = [];
  for (const collection of snapshot.collections) {
    const root = roots.get(collection.name)!;
    const context = contextFor(snapshot, collection, ids, tableNames, warnings);
    proposeCollection(context, root);
    for (const table of context.tables) spill(context, table, maxColumns);
    const ledger = appendOnlyVerdict(collection);
    const collectionIndexes = indexesOf(options.indexes?.[collection.name]);
    // A TTL index deletes rows, which an append-only table refuses: the index wins.
    const expires = collectionIndexes.indexes?.some((i) => i.expireAfterSeconds !== undefined) === true;
    const appendOnly = ledger.appendOnly && !expires;
    const plan: CollectionPlan = {
      name: collection.name,
      tables: context.tables.map(toTablePlan),
      ...collectionIndexes,
      ...(appendOnly && { appendOnly: true }),
    };
    if (appendOnly)
      warnings.push({
        code: 'APPEND_ONLY',
        collection: collection.name,
        message: `proposed as append-only (${ledger.evidence}): PostgreSQL will refuse UPDATE and DELETE on its tables; remove \`appendOnly\` if the application edits or deletes these documents`,
      });
    collections.push(plan);
    reports.push({
      name: collection.name,
      documents: collection.documents,
      complete: collection.complete,
      tables: plan.tables.map((t) => ({
        name: t.name,
        ...(t.parent ? { parent: t.parent.table } : {}),
        shape: t.parent?.shape ?? 'root',
        columns: physicalColumns(plan, t).length,
      })),
      decisions: context.decisions,
      ...(appendOnly && {
        appendOnly: {
          evidence: ledger.evidence,
          reason:
            'documents look like ledger entries: written once, never updated, so UPDATE and DELETE are refused',
        },
      }),
    });
  }
  const checked = checkPlan({ version: PLAN_VERSION, collections });
  if (!checked.ok)
    throw new FerryError(
      `the proposed mapping fails validation (a bug in ferry infer): ${checked.problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
      { code: 'INFER_PROPOSAL_INVALID', category: 'internal' },
    );
  return { plan: checked.plan, report: { version: 1, maxColumns, collections: reports, warnings } };
}

function contextFor(
  snapshot: InferenceSnapshot,
  collection: CollectionSnapshot,
  ids: ReadonlyMap<string, IdTarget>,
  tableNames: Set<string>,
  warnings: ReportWarning[],
): TableContext {
  const fields = new Map<string, FieldSnapshot>();
  const children = new Map<string, FieldSnapshot[]>();
  for (const field of [...collection.fields].sort((a, b) => comparePaths(a.path, b.path))) {
    fields.set(pathKey(field.path), field);
    const parent = pathKey(field.path.slice(0, -1));
    const list = children.get(parent) ?? [];
    list.push(field);
    children.set(parent, list);
  }
  const references = new Map(
    snapshot.references.filter((r) => r.collection === collection.name).map((r) => [pathKey(r.path), r]),
  );
  return {
    collection,
    fields,
    children,
    references,
    ids,
    tableNames,
    tables: [],
    decisions: [],
    warnings,
  };
}

function proposeCollection(
  context: TableContext,
  root: { name: string; id: TypeChoice; idField: FieldSnapshot | undefined },
): void {
  const { collection } = context;
  const table: DraftTable = {
    name: root.name,
    columns: [],
    discriminators: [],
    present: new Map(),
    decisions: new Map(),
  };
  context.tables.push(table);
  const scope: ElementScope = {
    table,
    taken: new Set(['_extra']),
    elementPath: [],
    elementCount: collection.documents,
  };
  const idField: FieldSnapshot = root.idField ?? {
    path: ['_id'],
    name: '_id',
    parentCount: 0,
    present: 0,
    presence: 0,
    occurrences: 0,
    nulls: 0,
    types: {},
  };
  addColumn(context, scope, idField, ['_id'], presenceText(idField, scope), {
    choice: root.id,
    rule: 'id',
    reason:
      root.id.pgType === 'uuid'
        ? 'ObjectId _id: the reversible, time-ordered uuid, primary key'
        : `_id of ${root.id.evidence}: kept in its natural type, primary key`,
  });
  // The id is NOT NULL whatever the sample says: a document without one is rejected anyway.
  const id = table.columns[0]!;
  table.columns[0] = { ...id, nullable: false };
  if (!collection.complete)
    context.warnings.push({
      code: 'SAMPLED',
      collection: collection.name,
      message: `only a sample of ${collection.documents} document(s) was analysed: every column is nullable, and fields never seen land in _extra`,
    });
  if (collection.rejects > 0)
    context.warnings.push({
      code: 'SOURCE_REJECTS',
      collection: collection.name,
      message: `${collection.rejects} document(s) could not be read from the source and are not in these statistics`,
    });
  if (collection.documentMap) {
    const e = collection.documentMap.evidence;
    context.decisions.push({
      table: table.name,
      path: '*',
      rule: 'extra',
      evidence: `${e.distinctKeys} distinct top-level keys, e.g. ${e.exampleKeys.slice(0, 3).join(', ')}`,
      reason: 'the documents themselves are maps (keys are data): everything but _id is kept in _extra',
    });
    context.warnings.push({
      code: 'DOCUMENTS_ARE_MAPS',
      collection: collection.name,
      message: 'the documents use data as keys; only _id gets a column, the rest is kept in _extra (jsonb)',
    });
    return;
  }
  placeObject(context, scope, []);
}

function idChoice(field: FieldSnapshot | undefined): TypeChoice {
  const types = field ? valueTypes(field) : ['objectId'];
  if (types.length === 1 && types[0] === 'objectId')
    return { pgType: 'uuid', sourceType: 'objectId', exact: true, evidence: 'objectId (reversible uuid)' };
  if (field && (types.includes('object') || types.includes('array')))
    return keptInJsonb(`compound _id (${types.join(', ')})`);
  return scalarChoice(field!);
}

/**
 * Keep a table within `maxColumns`: drop the columns holding the fewest values (latest path
 * first on a tie) until it fits. Their values land in `_extra` because no column takes them,
 * so nothing is lost, and the report says which went.
 */
function spill(context: TableContext, table: DraftTable, maxColumns: number): void {
  const structural = table.parent ? table.parent.columns.length + 1 : 0;
  const count = () => structural + table.columns.length + 3 * table.discriminators.length + 1;
  if (count() <= maxColumns) return;
  const spilled: string[] = [];
  while (count() > maxColumns) {
    const candidates = [
      ...table.columns
        .filter((c) => !(table.parent === undefined && c.path.length === 1 && c.path[0] === '_id'))
        .map((c) => c.name),
      ...table.discriminators.map((d) => d.columns.id),
    ];
    let pick: string | undefined;
    for (const name of candidates)
      if (pick === undefined || (table.present.get(name) ?? 0) <= (table.present.get(pick) ?? 0)) pick = name;
    if (pick === undefined) break;
    const index = table.decisions.get(pick)!;
    const decision = context.decisions[index]!;
    context.decisions[index] = {
      table: table.name,
      path: decision.path,
      rule: 'extra',
      evidence: decision.evidence,
      reason: `spilled: the table would have more than ${maxColumns} columns, and this field is among the rarest; its values are kept in _extra`,
    } satisfies Decision;
    spilled.push(decision.path);
    const columnIndex = table.columns.findIndex((c) => c.name === pick);
    if (columnIndex >= 0) table.columns.splice(columnIndex, 1);
    else
      table.discriminators.splice(
        table.discriminators.findIndex((d) => d.columns.id === pick),
        1,
      );
  }
  context.warnings.push({
    code: 'SPILLED_TO_EXTRA',
    collection: context.collection.name,
    message: `table ${table.name} would have more than ${maxColumns} columns: the ${spilled.length} rarest field(s) go to _extra (${spilled.slice(0, 5).join(', ')}${spilled.length > 5 ? ', …' : ''})`,
  });
}

function toTablePlan(draft: DraftTable): TablePlan {
  return {
    name: draft.name,
    ...(draft.parent ? { parent: draft.parent } : {}),
    columns: draft.columns,
    ...(draft.discriminators.length > 0 ? { discriminators: draft.discriminators } : {}),
  };
}

/**
 * The source's indexes as plan data. `_id_` is left out: the primary key is that index.
 * Filter expressions and options go through relaxed Extended JSON so the plan is plain data
 * that a written config reads back identically.
 */
function indexesOf(specs: readonly IndexSpec[] | undefined): { indexes?: SourceIndexPlan[] } {
  const kept = (specs ?? []).filter((s) => s.name !== '_id_');
  if (kept.length === 0) return {};
  return {
    indexes: kept.map((s) => EJSON.serialize({ ...s }, { relaxed: true }) as SourceIndexPlan),
  };
}
