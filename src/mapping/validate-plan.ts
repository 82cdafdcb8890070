import { FerryError } from '../core/errors.js';
import {
  type CollectionPlan,
  type ColumnPlan,
  EXTRA_COLUMN,
  type Plan,
  type PlanInput,
  physicalColumns,
  planSchema,
  primaryKey,
  type TablePlan,
} from './model.js';
import { columnTypeProblem, parsePgType } from './pg-types.js';
import type { TransformRegistry } from './transforms.js';

/**
 * One reason a plan is refused, at a JSON path into the plan (`collections[0].tables[1].columns[2].pgType`).
 *
 * @example
 * declare const input: unknown;
 * const check = checkPlan(input);
 * if (!check.ok) for (const p of check.problems) console.log(`${p.path}: ${p.reason}`);
 */
export interface PlanProblem {
  readonly path: string;
  readonly reason: string;
}

export interface CheckPlanOptions {
  /**
   * The transforms registered in code. When given, a plan naming a transform that is not in
   * it is refused; when omitted, transform names are not checked (a plan can be reviewed on a
   * machine without the application's code), and `toRows` checks them instead.
   */
  readonly transforms?: TransformRegistry;
}

/**
 * Validate a plan without throwing: its structure (zod), then the rules a structurally valid
 * plan can still break. Returns every problem found, so a user fixes a plan in one pass.
 *
 * @example
 * declare const text: string; // a plan as JSON
 * const result = checkPlan(JSON.parse(text));
 * if (!result.ok) for (const p of result.problems) console.error(`${p.path}: ${p.reason}`);
 */
export function checkPlan(
  input: unknown,
  options: CheckPlanOptions = {},
):
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly problems: readonly PlanProblem[] } {
  const parsed = planSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      reason: issue.message,
    }));
    return { ok: false, problems };
  }
  const problems = semanticProblems(parsed.data, options);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, plan: deepFreeze(parsed.data) };
}

/**
 * Validate a plan and return it deeply frozen, or throw `MAPPING_PLAN_INVALID` naming every
 * problem with its path and reason. Nothing is written before this succeeds.
 *
 * @example
 * import { readFile } from 'node:fs/promises';
 * declare const transforms: TransformRegistry;
 * const plan = parsePlan(JSON.parse(await readFile('ferry.plan.json', 'utf8')), { transforms });
 */
export function parsePlan(input: PlanInput | unknown, options: CheckPlanOptions = {}): Plan {
  const result = checkPlan(input, options);
  if (result.ok) return result.plan;
  const first = result.problems[0];
  const list = result.problems.map((p) => `  ${p.path}: ${p.reason}`).join('\n');
  throw new FerryError(`the mapping plan is invalid (${result.problems.length} problem(s)):\n${list}\n`, {
    code: 'MAPPING_PLAN_INVALID',
    category: 'input',
    ...(first ? { where: { path: first.path } } : {}),
    hint: 'fix the plan file, or regenerate it with `ferry plan`',
  });
}

function semanticProblems(plan: Plan, options: CheckPlanOptions): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const report = (path: string, reason: string) => problems.push({ path, reason });
  const tableOwner = new Map<string, string>();
  const collectionNames = new Set<string>();

  plan.collections.forEach((collection, ci) => {
    const cPath = `collections[${ci}]`;
    if (collectionNames.has(collection.name))
      report(`${cPath}.name`, `duplicate collection "${collection.name}"`);
    collectionNames.add(collection.name);
    collection.tables.forEach((table, ti) => {
      const tPath = `${cPath}.tables[${ti}]`;
      const owner = tableOwner.get(table.name);
      if (owner !== undefined) report(`${tPath}.name`, `duplicate table "${table.name}" (also in ${owner})`);
      tableOwner.set(table.name, tPath);
      checkTable(collection, table, ti, tPath, options, report);
    });
    checkCollectionOptions(collection, cPath, report);
  });
  // References are checked last: they may point at a table of any collection.
  plan.collections.forEach((collection, ci) => {
    collection.tables.forEach((table, ti) => {
      table.columns.forEach((column, k) => {
        if (column.references === undefined) return;
        const where = `collections[${ci}].tables[${ti}].columns[${k}].references`;
        const target = findTable(plan, column.references.table);
        if (target === undefined) {
          report(where, `references unknown table "${column.references.table}"`);
          return;
        }
        const targetColumn = physicalColumns(target.collection, target.table).find(
          (c) => c.name === column.references?.column,
        );
        if (targetColumn === undefined) {
          report(where, `references unknown column "${column.references.table}.${column.references.column}"`);
          return;
        }
        const ownType = column.pgType.replace(/\[\]$/, '');
        if (targetColumn.pgType !== ownType)
          report(
            where,
            `type ${column.pgType} does not match the referenced column's type ${targetColumn.pgType}`,
          );
      });
    });
  });
  return problems;
}

function checkTable(
  collection: CollectionPlan,
  table: TablePlan,
  index: number,
  tPath: string,
  options: CheckPlanOptions,
  report: (path: string, reason: string) => void,
): void {
  const isRoot = table.parent === undefined;
  if (index === 0 && !isRoot)
    report(`${tPath}.parent`, 'the first table of a collection is its root and has no parent');
  if (index > 0 && isRoot)
    report(`${tPath}.parent`, 'a child table needs a parent (only the first table is the root)');

  if (table.parent !== undefined) {
    const parentIndex = collection.tables.findIndex((t) => t.name === table.parent?.table);
    const parent = collection.tables[parentIndex];
    if (parent === undefined || parentIndex >= index) {
      report(
        `${tPath}.parent.table`,
        parent === undefined
          ? `parent table "${table.parent.table}" is not in collection "${collection.name}"`
          : `parent table "${table.parent.table}" must come before its child`,
      );
    } else {
      const parentKey = primaryKey(parent);
      if (parentKey.length !== table.parent.columns.length)
        report(
          `${tPath}.parent.columns`,
          `the parent "${parent.name}" has a ${parentKey.length}-column key (${parentKey.join(', ')}), so a child needs ${parentKey.length} parent columns`,
        );
    }
  }

  // Names: value columns, structural columns and the catch-all share one namespace.
  const seen = new Set<string>();
  for (const c of physicalColumns(collection, table)) {
    if (seen.has(c.name)) report(`${tPath}.columns`, `duplicate column "${c.name}"`);
    seen.add(c.name);
  }
  if (table.columns.some((c) => c.name === EXTRA_COLUMN))
    report(`${tPath}.columns`, `"${EXTRA_COLUMN}" is reserved for the catch-all column`);

  // Only the first table is the root; a stray parentless table was reported above.
  if (isRoot && index === 0) {
    const ids = table.columns.filter((c) => c.path.length === 1 && c.path[0] === '_id');
    if (ids.length !== 1)
      report(`${tPath}.columns`, 'a root table needs exactly one column with path ["_id"]');
    const id = ids[0];
    if (id !== undefined && (id.nullable || id.transform !== undefined || id.pgType.endsWith('[]')))
      report(
        `${tPath}.columns`,
        `the _id column "${id.name}" must be non-nullable, scalar and untransformed`,
      );
  }

  table.columns.forEach((column, k) => {
    const cPath = `${tPath}.columns[${k}]`;
    const parsed = parsePgType(column.pgType);
    if (!parsed.ok) {
      report(`${cPath}.pgType`, parsed.reason);
      return;
    }
    const problem = columnTypeProblem(parsed.type, column.sourceType);
    if (problem !== undefined) report(`${cPath}.pgType`, `column "${column.name}": ${problem}`);
    if (isRoot && column.path.length === 0)
      report(`${cPath}.path`, 'the root table maps a document; a column cannot take the whole of it');
    if (column.renamedFrom !== undefined && table.columns.some((c) => c.name === column.renamedFrom))
      report(
        `${cPath}.renamedFrom`,
        `column "${column.name}" is renamed from "${column.renamedFrom}", which the table still has`,
      );
    if (column.transform !== undefined && options.transforms !== undefined) {
      if (!options.transforms.has(column.transform))
        report(
          `${cPath}.transform`,
          `transform "${column.transform}" is not registered; register it (with its inverse) with defineTransforms`,
        );
    }
  });

  checkPaths(collection, table, tPath, report);
}

/** Types whose order is a version order: numbers, and dates (an `updatedAt` used as a version). */
const VERSION_TYPES =
  /^(integer|bigint|smallint|numeric(\(\d+(,\d+)?\))?|double precision|real|timestamptz)$/;

/**
 * `version` names a root column that can be ordered; `appendOnly` cannot go with a TTL
 * index, whose cleanup deletes the rows the triggers protect.
 */
function checkCollectionOptions(
  collection: CollectionPlan,
  cPath: string,
  report: (path: string, reason: string) => void,
): void {
  if (collection.version !== undefined) {
    const column = versionColumn(collection);
    if (column === undefined)
      report(
        `${cPath}.version`,
        `no column of the root table maps field "${collection.version}"; the version field needs one`,
      );
    else if (!VERSION_TYPES.test(column.pgType))
      report(
        `${cPath}.version`,
        `column "${column.name}" has type ${column.pgType}; a version needs a number or timestamptz column`,
      );
  }
  if (collection.appendOnly === true) {
    const ttl = (collection.indexes ?? []).find((i) => i.expireAfterSeconds !== undefined);
    if (ttl !== undefined)
      report(
        `${cPath}.appendOnly`,
        `collection "${collection.name}" is append-only but has the TTL index ${ttl.name}, whose cleanup deletes rows; drop one of the two`,
      );
  }
}

/**
 * The root column holding a collection's `version` field, if the plan maps it.
 *
 * @example
 * declare const orders: CollectionPlan; // { …, version: '__v' }
 * versionColumn(orders)?.name   // '__v'
 */
export function versionColumn(collection: CollectionPlan): ColumnPlan | undefined {
  if (collection.version === undefined) return undefined;
  const path = collection.version.split('.');
  return collection.tables[0]?.columns.find(
    (c) => c.path.length === path.length && c.path.every((key, i) => key === path[i]),
  );
}

/**
 * Every key path of a table's element is claimed by at most one thing, and a path that a
 * column takes whole cannot also be flattened into (a column at `a` and one at `a.b` would
 * leave `toRows` unable to say where `a` goes).
 */
function checkPaths(
  collection: CollectionPlan,
  table: TablePlan,
  tPath: string,
  report: (path: string, reason: string) => void,
): void {
  const claims: { path: readonly string[]; where: string }[] = [];
  table.columns.forEach((c, k) => {
    claims.push({ path: c.path, where: `${tPath}.columns[${k}].path` });
  });
  const collectionPath = tPath.slice(0, tPath.lastIndexOf('.tables['));
  collection.tables.forEach((child, i) => {
    if (child.parent?.table === table.name)
      claims.push({ path: child.parent.path, where: `${collectionPath}.tables[${i}].parent.path` });
  });
  (table.discriminators ?? []).forEach((d, k) => {
    const dPath = `${tPath}.discriminators[${k}]`;
    claims.push({ path: d.path, where: `${dPath}.path` });
    if (d.kindPath !== undefined) {
      claims.push({ path: d.kindPath, where: `${dPath}.kindPath` });
      const sameParent =
        d.kindPath.length === d.path.length && d.kindPath.slice(0, -1).every((key, i) => key === d.path[i]);
      if (!sameParent) report(`${dPath}.kindPath`, 'the kind field must be a sibling of the id field');
    }
    const names = new Set(d.kinds.map((kind) => kind.name));
    if (names.size !== d.kinds.length) report(`${dPath}.kinds`, 'duplicate kind name');
    if (d.kindPath === undefined) {
      const idTypes = new Set(d.kinds.map((kind) => kind.idType));
      if (idTypes.size !== d.kinds.length)
        report(
          `${dPath}.kinds`,
          'without a kindPath, each kind needs its own idType so the id decides the kind',
        );
    }
  });
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const a = claims[i]!;
      const b = claims[j]!;
      if (isPrefix(a.path, b.path) || isPrefix(b.path, a.path))
        report(
          b.where,
          `path ${JSON.stringify(b.path)} overlaps ${JSON.stringify(a.path)} (${a.where}); each field goes to one place`,
        );
    }
  }
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => key === path[i]);
}

function findTable(plan: Plan, name: string): { collection: CollectionPlan; table: TablePlan } | undefined {
  for (const collection of plan.collections) {
    const table = collection.tables.find((t) => t.name === name);
    if (table !== undefined) return { collection, table };
  }
  return undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
