import { renderTable } from '../cli/output.js';
import type { CollectionVerifyResult, VerifyDifference, VerifyResult } from './types.js';

/**
 * The terminal summary: one table row per collection, then each listed difference with its
 * `_id` and field paths (values only when the run kept them), reconciliation, index
 * warnings, and a last line with the verdict.
 *
 * @example
 * declare const result: VerifyResult;
 * process.stdout.write(renderVerifyText(result));
 * // collection  source  target  rejected  …  result
 * // orders        3001    3000         1  …  MISMATCH
 * //   content  orders  5bd761dcae323e45a93ccfe8  items.1.qty (value)
 */
export function renderVerifyText(result: VerifyResult): string {
  const rows = result.collections.map((c) => [
    c.collection,
    c.sourceCount,
    c.targetCount,
    c.rejected,
    c.level === 'count' ? '-' : c.matched,
    c.missing,
    c.extra,
    c.content,
    c.ok ? 'ok' : 'MISMATCH',
  ]);
  const lines = [
    renderTable(
      ['collection', 'source', 'target', 'rejected', 'matched', 'missing', 'extra', 'content', 'result'],
      rows,
    ),
  ];
  for (const c of result.collections) lines.push(...collectionLines(c));
  for (const r of result.reconciliation) lines.push(`check ${r.name}: ${r.status} (${r.message})`);
  for (const i of result.indexes.filter((x) => x.status === 'warning'))
    lines.push(`index warning ${i.collection}.${i.index}: ${i.message}`);
  const failed = result.collections.filter((c) => !c.ok).length;
  const level = result.level === 'sample' ? `sample ${result.fraction} (seed ${result.seed})` : result.level;
  lines.push(
    result.ok
      ? `verify (${level}): OK, ${result.collections.length} collection(s) match in ${result.seconds.toFixed(1)}s`
      : `verify (${level}): MISMATCH in ${failed} collection(s)${result.reconciliation.some((r) => r.status === 'mismatch') ? ' and reconciliation' : ''}`,
  );
  return lines.join('\n');
}

function collectionLines(c: CollectionVerifyResult): string[] {
  const out: string[] = [];
  if (!c.countsAgree)
    out.push(`  ${c.collection}: source ${c.sourceCount} ≠ target ${c.targetCount} + rejected ${c.rejected}`);
  for (const t of c.tables ?? [])
    if (t.expected !== t.actual)
      out.push(`  ${c.collection}: table ${t.table} has ${t.actual} rows, the source gives ${t.expected}`);
  for (const d of c.differences) out.push(...differenceLines(c.collection, d));
  if (c.truncated)
    out.push(`  ${c.collection}: … more differences than listed (${c.missing + c.extra + c.content} in all)`);
  return out;
}

function differenceLines(collection: string, d: VerifyDifference): string[] {
  const head = `  ${d.kind}  ${collection}  ${d.id}`;
  if (d.fields === undefined || d.fields.length === 0) return [head];
  return d.fields.map((f) => {
    const values =
      f.source !== undefined || f.target !== undefined ? `  source=${f.source} target=${f.target}` : '';
    return `${head}  ${f.path || '(document)'} (${f.kind})${values}`;
  });
}
