import { renderTable } from '../core/render-table.js';
import type { CollectionVerifyResult, VerifyDifference, VerifyResult } from './types.js';
import { verdictText } from './verdict.js';

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
    !c.ok ? 'MISMATCH' : c.rejected > 0 ? 'INCOMPLETE' : 'ok',
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
  const through = result.collections.some((c) => c.export?.compared === 'manifest')
    ? ', through the export manifest'
    : '';
  const level = `${result.level === 'sample' ? `sample ${result.fraction} (seed ${result.seed})` : result.level}${through}`;
  lines.push(`verify (${level}): ${verdictLine(result)}`);
  return lines.join('\n');
}

/** The last line: what the run proves, and for rejects what to do about them. */
function verdictLine(result: VerifyResult): string {
  switch (result.verdict) {
    case 'complete':
      return `complete, ${result.collections.length} collection(s) match in ${result.seconds.toFixed(1)}s`;
    case 'incomplete':
      return result.acceptRejects
        ? `incomplete: ${result.rejected} rejected (accepted with --accept-rejects); every other document matches`
        : `${verdictText(result)}; every other document matches. Load them after a fix (\`ferry rejects retry\`), or pass --accept-rejects to accept them`;
    case 'mismatch': {
      const failed = result.collections.filter((c) => !c.ok).length;
      const checks = result.reconciliation.some((r) => r.status === 'mismatch') ? ' and reconciliation' : '';
      const rejected = result.rejected > 0 ? `; ${result.rejected} rejected` : '';
      return `MISMATCH in ${failed} collection(s)${checks}${rejected}`;
    }
  }
}

function collectionLines(c: CollectionVerifyResult): string[] {
  const out: string[] = [];
  if (c.rejected > 0)
    out.push(`  ${c.collection}: ${c.rejected} rejected: accounted, not loaded (see \`ferry rejects list\`)`);
  if (!c.countsAgree)
    out.push(`  ${c.collection}: source ${c.sourceCount} ≠ target ${c.targetCount} + rejected ${c.rejected}`);
  for (const t of c.tables ?? [])
    if (t.expected !== t.actual)
      out.push(`  ${c.collection}: table ${t.table} has ${t.actual} rows, the source gives ${t.expected}`);
  if (c.export?.fileChanged === true)
    out.push(
      `  ${c.collection}: ${c.export.file} changed since the export (its size or SHA-256 is not the manifest's): its documents were read again`,
    );
  if (c.export?.manifestAgrees === false)
    out.push(
      `  ${c.collection}: the manifest's bucket sums disagree with its own unchanged file ${c.export.file}: the manifest was altered; verify with --reread`,
    );
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
