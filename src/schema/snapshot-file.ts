import { z } from 'zod';
import { describeIssues } from '../config/load.js';
import { FerryError } from '../core/errors.js';
import { PLAN_VERSION } from '../mapping/model.js';
import type { SchemaModel } from './schema-model.js';

/**
 * The migrations snapshot (`ferry-snapshot.json`) on disk: the schema model that the folder's
 * SQL files produce, with the snapshot format version and the plan version it was built
 * from. It lives in the user's repository, so it can be damaged by a merge or replaced by
 * another tool's file; it is validated in full before anything is diffed against it, because
 * a half-read snapshot would write a wrong migration.
 */

/** The format of the file itself; a change to its shape bumps it. */
export const SNAPSHOT_VERSION = 1;

const name = z.string().min(1);
const names = z.array(name);

const columnSchema = z.strictObject({
  name,
  pgType: name,
  nullable: z.boolean(),
  renamedFrom: name.optional(),
});

const tableSchema = z.strictObject({
  name,
  collection: z.string(),
  columns: z.array(columnSchema).min(1),
  primaryKey: z.strictObject({ name, columns: names.min(1) }),
});

const foreignKeySchema = z.strictObject({
  name,
  table: name,
  columns: names.min(1),
  refTable: name,
  refColumns: names.min(1),
  onDelete: z.enum(['cascade', 'no action']),
  kind: z.enum(['parent', 'reference']),
  breaksCycle: z.boolean(),
});

const checkSchema = z.strictObject({ name, table: name, expression: name });

const indexKeySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('column'), column: name, descending: z.boolean() }),
  z.strictObject({ kind: z.literal('expression'), sql: name }),
]);

const indexSchema = z.strictObject({
  name,
  table: name,
  method: z.enum(['btree', 'gin']),
  keys: z.array(indexKeySchema).min(1),
  unique: z.boolean(),
  where: z.string().optional(),
  source: z.string(),
});

const ttlSchema = z.strictObject({
  table: name,
  column: name,
  // 0 is a valid TTL: MongoDB's expireAfterSeconds: 0 expires a document at the date it holds.
  seconds: z.number().nonnegative(),
  where: z.string().optional(),
  source: z.string(),
});

const appendOnlySchema = z.strictObject({ name, table: name, collection: z.string() });
const captureTriggerSchema = z.strictObject({
  name,
  table: name,
  collection: z.string(),
  keyColumn: name,
  event: z.enum(['insert', 'update', 'delete']),
});

const modelSchema = z
  .strictObject({
    tables: z.array(tableSchema),
    foreignKeys: z.array(foreignKeySchema),
    checks: z.array(checkSchema),
    indexes: z.array(indexSchema),
    ttl: z.array(ttlSchema),
    // Absent in snapshots written before append-only tables existed, and when there are none.
    appendOnly: z.array(appendOnlySchema).default([]),
    // Snapshots written before the outbox have none: the next apply installs them.
    captureTriggers: z.array(captureTriggerSchema).default([]),
    loadOrder: names,
  })
  .superRefine((model, context) => {
    // Every reference must name a table of the snapshot: a diff against dangling names
    // would write DDL for tables that do not exist.
    const tables = new Set(model.tables.map((t) => t.name));
    const problem = (path: (string | number)[], message: string) =>
      context.addIssue({ code: 'custom', path, message });
    const order = new Set(model.loadOrder);
    if (order.size !== tables.size || [...tables].some((t) => !order.has(t)))
      problem(['loadOrder'], 'must list every table exactly once');
    model.foreignKeys.forEach((fk, i) => {
      if (!tables.has(fk.table)) problem(['foreignKeys', i, 'table'], `no table "${fk.table}"`);
      if (!tables.has(fk.refTable)) problem(['foreignKeys', i, 'refTable'], `no table "${fk.refTable}"`);
    });
    for (const [key, list] of [
      ['checks', model.checks],
      ['indexes', model.indexes],
      ['ttl', model.ttl],
      ['appendOnly', model.appendOnly],
      ['captureTriggers', model.captureTriggers],
    ] as const)
      list.forEach((item, i) => {
        if (!tables.has(item.table)) problem([key, i, 'table'], `no table "${item.table}"`);
      });
  });

const fileSchema = z.strictObject({
  version: z.literal(SNAPSHOT_VERSION),
  // Snapshots written before the plan version was recorded have none; they come from plan 1.
  planVersion: z.number().int().positive().optional(),
  model: modelSchema,
});

/**
 * The schema model in a snapshot file's text, validated; `file` names the file in errors.
 * Text that is not JSON, or not a Ferry snapshot, or a snapshot of another format or plan
 * version, is refused with an input error (exit 2) naming the file.
 *
 * @example
 * import { readFile } from 'node:fs/promises';
 * const model = parseSnapshot(await readFile('migrations/ferry-snapshot.json', 'utf8'), 'migrations/ferry-snapshot.json');
 */
export function parseSnapshot(text: string, file: string): SchemaModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw snapshotError(file, `is not valid JSON (${(cause as Error).message})`, 'SCHEMA_SNAPSHOT_INVALID');
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version !== SNAPSHOT_VERSION)
    throw snapshotError(
      file,
      `has snapshot version ${version}; this Ferry reads ${SNAPSHOT_VERSION}`,
      'SCHEMA_SNAPSHOT_VERSION',
    );
  const planVersion = (json as { planVersion?: unknown } | null)?.planVersion;
  if (typeof planVersion === 'number' && planVersion !== PLAN_VERSION)
    throw snapshotError(
      file,
      `was written for mapping plan version ${planVersion}; this Ferry reads plan version ${PLAN_VERSION}`,
      'SCHEMA_SNAPSHOT_VERSION',
    );
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error.issues).slice(0, 20);
    throw snapshotError(
      file,
      `is not a Ferry migrations snapshot:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
      'SCHEMA_SNAPSHOT_INVALID',
    );
  }
  return { ...parsed.data.model, warnings: [] };
}

/**
 * A snapshot file's text for `model`: deterministic, so an unchanged schema gives the same bytes.
 *
 * @example
 * import { writeFile } from 'node:fs/promises';
 * declare const plan: Plan;
 * await writeFile('migrations/ferry-snapshot.json', snapshotText(buildSchema(plan)));
 */
export function snapshotText(model: SchemaModel): string {
  // Warnings describe the plan, not the schema the files create; they would only add noise to diffs.
  // No guards: no key, so the snapshots of schemas without append-only tables keep their bytes.
  const { warnings: _warnings, appendOnly, ...rest } = model;
  const schema = appendOnly.length === 0 ? rest : { ...rest, appendOnly };
  return `${JSON.stringify({ version: SNAPSHOT_VERSION, planVersion: PLAN_VERSION, model: schema }, null, 2)}\n`;
}

function snapshotError(
  file: string,
  problem: string,
  code: 'SCHEMA_SNAPSHOT_INVALID' | 'SCHEMA_SNAPSHOT_VERSION',
): FerryError {
  return new FerryError(`the migrations snapshot ${file} ${problem}`, {
    code,
    category: 'input',
    where: { file },
    hint: 'restore it from version control; Ferry diffs the mapping against it to write the next migration',
  });
}
