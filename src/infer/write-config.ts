import { redactSecrets } from '../core/redact.js';
import type { CollectionPlan, ColumnPlan, Plan, TablePlan } from '../mapping/model.js';
import type { Decision, InferenceReport, ReportWarning } from './report.js';

/** Options of `renderConfig`. */
export interface RenderConfigOptions {
  /** The source as the user gave it; written unless it carries a password. */
  readonly source?: string;
  /** Environment variable the config reads a source with credentials from (default FERRY_SOURCE). */
  readonly sourceEnv?: string;
}

/**
 * The text of a reviewable `ferry.config.ts`: the plan as a typed `defineConfig` call, one
 * column per line, each with a comment quoting its evidence and reason, and the report's
 * warnings next to the fields they concern. Deterministic: no dates, no absolute paths that
 * were not given. It loads back through `loadConfig` to exactly `plan`.
 *
 * A source with a password is not written; the config reads it from `FERRY_SOURCE`, because a
 * config file gets committed and credentials must not be (DESIGN.md invariant 6).
 *
 * @example
 * import { writeFile } from 'node:fs/promises';
 * declare const plan: Plan;
 * declare const report: InferenceReport;
 * await writeFile('ferry.config.ts', renderConfig(plan, report, { source: 'dump.archive.gz' }));
 */
export function renderConfig(plan: Plan, report: InferenceReport, options: RenderConfigOptions = {}): string {
  const out: string[] = [
    '// Proposed by `ferry infer`. Review it: every column says what was seen and why it was',
    "// chosen; values a column cannot hold exactly land in the table's _extra jsonb column.",
    '// After editing, `ferry infer <source> --check` checks the mapping against the data.',
    "import { defineConfig } from 'ferry';",
    '',
    'export default defineConfig({',
  ];
  if (options.source !== undefined) {
    if (redactSecrets(options.source) === options.source) out.push(`  source: ${literal(options.source)},`);
    else {
      const env = options.sourceEnv ?? 'FERRY_SOURCE';
      out.push(`  // The source has credentials, so it is not written here: set ${env}.`);
      out.push(`  source: process.env.${env},`);
    }
  }
  out.push('  mapping: {', `    version: ${plan.version},`, '    collections: [');
  for (const collection of plan.collections) renderCollection(out, collection, report);
  out.push('    ],', '  },', '});', '');
  return out.join('\n');
}

function renderCollection(out: string[], collection: CollectionPlan, report: InferenceReport): void {
  const info = report.collections.find((c) => c.name === collection.name);
  const warnings = report.warnings.filter((w) => w.collection === collection.name);
  const ind = '      ';
  out.push(`${ind}{`);
  if (info)
    out.push(
      `${ind}  // ${info.documents} document(s)${info.complete ? '' : ' (a sample)'}; ${info.tables.length} table(s)`,
    );
  for (const w of warnings.filter((w) => w.path === undefined))
    out.push(`${ind}  // WARNING ${w.code}: ${clean(w.message)}`);
  out.push(`${ind}  name: ${literal(collection.name)},`, `${ind}  tables: [`);
  const decisions = info?.decisions ?? [];
  for (const table of collection.tables) renderTable(out, table, decisions, warnings);
  out.push(`${ind}  ],`);
  if (collection.indexes && collection.indexes.length > 0) {
    out.push(`${ind}  // The source's indexes; \`ferry plan\` translates them (unique, partial, TTL, text).`);
    out.push(`${ind}  indexes: [`);
    for (const index of collection.indexes) out.push(`${ind}    ${literal(index)},`);
    out.push(`${ind}  ],`);
  }
  if (collection.appendOnly === true) {
    if (info?.appendOnly)
      out.push(`${ind}  // ${clean(`${info.appendOnly.evidence}. ${info.appendOnly.reason}`)}`);
    out.push(`${ind}  appendOnly: true,`);
  }
  if (collection.version !== undefined) out.push(`${ind}  version: ${literal(collection.version)},`);
  out.push(`${ind}},`);
}

function renderTable(
  out: string[],
  table: TablePlan,
  decisions: readonly Decision[],
  warnings: readonly ReportWarning[],
): void {
  const ind = '            ';
  const mine = decisions.filter((d) => d.table === table.name);
  out.push(`${ind.slice(2)}{`);
  const origin = mine.find(
    (d) => d.column === table.name && (d.rule === 'array-child' || d.rule === 'map-child'),
  );
  if (origin) comment(out, ind, `${origin.path}: ${origin.evidence}. ${origin.reason}`);
  else if (table.parent === undefined) comment(out, ind, 'root table: one row per document');
  out.push(`${ind}name: ${literal(table.name)},`);
  if (table.parent) out.push(`${ind}parent: ${literal(table.parent)},`);
  out.push(`${ind}columns: [`);
  const explainedGroups = new Set<string>();
  for (const column of table.columns) {
    const decision = mine.find((d) => d.column === column.name);
    if (decision) {
      for (const group of groupsOf(mine, decision, explainedGroups))
        comment(out, `${ind}  `, `${group.path}: ${group.evidence}. ${group.reason}`);
      comment(out, `${ind}  `, `${decision.path}: ${decision.evidence}. ${decision.reason}`);
      for (const w of warnings.filter((w) => w.path === decision.path))
        comment(out, `${ind}  `, `WARNING ${w.code}: ${w.message}`);
    }
    out.push(`${ind}  ${columnLiteral(column)},`);
  }
  for (const d of mine.filter((d) => d.rule === 'extra')) {
    comment(out, `${ind}  `, `${d.path} → _extra: ${d.evidence}. ${d.reason}`);
    for (const w of warnings.filter((w) => w.path === d.path))
      comment(out, `${ind}  `, `WARNING ${w.code}: ${w.message}`);
  }
  out.push(`${ind}],`);
  if (table.discriminators && table.discriminators.length > 0) {
    out.push(`${ind}discriminators: [`);
    for (const d of table.discriminators) {
      const decision = mine.find((x) => x.rule === 'polymorphic' && x.column?.includes(d.columns.id));
      if (decision) comment(out, `${ind}  `, `${decision.path}: ${decision.evidence}. ${decision.reason}`);
      out.push(`${ind}  ${literal(d)},`);
    }
    out.push(`${ind}],`);
  }
  out.push(`${ind.slice(2)}},`);
}

/** Flatten/GeoJSON decisions of the objects enclosing a column, each explained once. */
function groupsOf(mine: readonly Decision[], decision: Decision, explained: Set<string>): Decision[] {
  const found = mine.filter(
    (d) =>
      (d.rule === 'flatten' || d.rule === 'geojson') &&
      decision.path.startsWith(`${d.path}.`) &&
      !explained.has(d.path),
  );
  for (const d of found) explained.add(d.path);
  return found;
}

function columnLiteral(column: ColumnPlan): string {
  // Fixed key order, matching the model, so diffs between two proposals stay small.
  const { name, path, pgType, sourceType, nullable, references, transform, allowed } = column;
  return literal({
    name,
    path,
    pgType,
    sourceType,
    nullable,
    ...(references ? { references } : {}),
    ...(transform !== undefined ? { transform } : {}),
    ...(allowed !== undefined ? { allowed } : {}),
  });
}

function comment(out: string[], indent: string, text: string): void {
  const words = clean(text).split(' ');
  let line = '';
  for (const word of words) {
    if (line !== '' && indent.length + 3 + line.length + word.length + 1 > 110) {
      out.push(`${indent}// ${line}`);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(`${indent}// ${line}`);
}

/** Comments are one line each: keys and messages may hold newlines (or a line separator). */
function clean(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A TypeScript literal of plain data, on one line. */
function literal(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (/^[\x20-\x7e]*$/.test(value) && !/['\\]/.test(value)) return `'${value}'`;
    return JSON.stringify(value)
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const body = entries.map(([k, v]) => `${IDENTIFIER.test(k) ? k : literal(k)}: ${literal(v)}`).join(', ');
    return `{ ${body} }`;
  }
  throw new TypeError(`cannot write a ${typeof value} into a config file`);
}
