import type { Decision, IndexDecision, InferenceReport } from './report.js';

/**
 * The inference report for a terminal: per collection, its tables, and under each table one
 * line per decision (column, type, nullability, source path) with its evidence and reason
 * beneath; then the warnings. Plain text, no colour, so it reads the same in a log file.
 *
 * @example
 * declare const snapshot: InferenceSnapshot;
 * process.stdout.write(renderReport(proposeMapping(snapshot).report));
 * // sales: 5000 document(s) → 2 table(s)
 * //   sales (root, 10 columns)
 * //     id             uuid       not null  ← _id
 * //                    5000/5000 present; objectId (reversible uuid). ObjectId _id: …
 */
export function renderReport(report: InferenceReport): string {
  const out: string[] = [];
  for (const collection of report.collections) {
    const sample = collection.complete ? '' : ' (a sample)';
    const model = collection.model === undefined ? '' : `, model ${collection.model}`;
    out.push(
      `${collection.name}: ${collection.documents} document(s)${sample} → ${collection.tables.length} table(s)${model}`,
    );
    if (collection.appendOnly)
      out.push(`  append-only: ${collection.appendOnly.evidence}. ${collection.appendOnly.reason}`);
    for (const table of collection.tables) {
      const origin = collection.decisions.find(
        (d) => d.column === table.name && (d.rule === 'array-child' || d.rule === 'map-child'),
      );
      const shape = table.parent ? `${table.shape} at ${origin?.path ?? '?'} of ${table.parent}` : 'root';
      out.push(`  ${table.name} (${shape}, ${table.columns} columns)`);
      if (origin) out.push(`      ${origin.evidence}. ${origin.reason}`);
      const mine = collection.decisions.filter((d) => d.table === table.name && d !== origin);
      const width = Math.max(8, ...mine.map((d) => (d.column ?? '_extra').length));
      const typeWidth = Math.max(6, ...mine.map((d) => (d.pgType ?? '').length));
      for (const d of mine) out.push(...decisionLines(d, width, typeWidth));
    }
    for (const index of collection.indexes ?? []) out.push(indexLine(index));
    out.push('');
  }
  if (report.collections.some((c) => c.decisions.some((d) => d.pgType === 'uuid'))) {
    out.push(...OBJECT_ID_NOTE, '');
  }
  if (report.warnings.length === 0) out.push('No warnings.');
  else {
    out.push(`Warnings (${report.warnings.length}):`);
    for (const w of report.warnings)
      out.push(`  ${w.code}  ${w.collection}${w.path === undefined ? '' : ` ${w.path}`}: ${w.message}`);
  }
  return `${out.join('\n')}\n`;
}

/** How to get from the uuid columns back to ObjectIds in SQL (functions installed with Ferry's state). */
const OBJECT_ID_NOTE = [
  'ObjectIds are stored as reversible uuids. In SQL:',
  "  ferry.uuid_to_oid(<uuid column>)    the ObjectId's 24 hex digits",
  "  ferry.oid_to_uuid('<24 hex digits>') the uuid, e.g. where id = ferry.oid_to_uuid('64b7f1c2a9e3d40012345678')",
];

function indexLine(index: IndexDecision): string {
  const key = Object.entries(index.key)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  const flags = [
    index.unique ? 'unique' : '',
    index.sparse ? 'sparse' : '',
    index.ttlSeconds === undefined ? '' : `TTL ${index.ttlSeconds}s`,
  ].filter((f) => f !== '');
  return `  index ${index.name} { ${key} }${flags.length > 0 ? ` ${flags.join(' ')}` : ''}  [${index.decidedBy}]`;
}

function decisionLines(d: Decision, width: number, typeWidth: number): string[] {
  const by =
    d.decidedBy === undefined ? '' : `  [${d.decidedBy}${d.model === undefined ? '' : `: ${d.model}`}]`;
  const detail = `      ${''.padEnd(width)}  ${d.evidence}. ${d.reason}${by}`;
  if (d.rule === 'flatten' || d.rule === 'geojson')
    return [`    ${d.path}: ${d.rule === 'geojson' ? 'GeoJSON point, flattened' : 'flattened'}`, detail];
  if (d.rule === 'extra')
    return [`    ${'_extra'.padEnd(width)}  ${''.padEnd(typeWidth)}            ← ${d.path}`, detail];
  const nullability = d.nullable === false ? 'not null' : 'nullable';
  return [
    `    ${(d.column ?? '').padEnd(width)}  ${(d.pgType ?? (d.rule === 'polymorphic' ? 'text/uuid/text' : '')).padEnd(typeWidth)}  ${nullability.padEnd(8)}  ← ${d.path}`,
    detail,
  ];
}
