import { redactSecrets } from '../core/redact.js';
import type { CollectionVerifyResult, VerifyResult } from './types.js';
import { verdictText } from './verdict.js';

/**
 * The HTML report: one self-contained file (inline CSS, no script) a person can open or
 * attach to a ticket: the verdict, a table per collection, and its differences with `_id`,
 * field paths and, only when the run kept them (`--show-values`), both values. Every piece
 * of data is redacted of credentials and HTML-escaped.
 *
 * @example
 * import { writeFile } from 'node:fs/promises';
 * declare const result: VerifyResult;
 * await writeFile('verify.html', renderVerifyHtml(result, { generatedAt: new Date() }));
 */
export function renderVerifyHtml(
  result: VerifyResult,
  options: { generatedAt?: Date; title?: string } = {},
): string {
  const title = options.title ?? 'Ferry verification report';
  const when = (options.generatedAt ?? new Date()).toISOString();
  const verdict =
    result.verdict === 'complete'
      ? 'Complete: every source document matches the target'
      : result.verdict === 'incomplete'
        ? `${verdictText(result)}: rejected documents are accounted for, not loaded`
        : 'MISMATCH: see the differences below';
  const sections = result.collections.map(collectionSection).join('\n');
  const checks = result.reconciliation.length
    ? `<h2>Reconciliation checks</h2>\n<table><thead><tr><th>check</th><th>status</th><th>detail</th></tr></thead><tbody>${result.reconciliation
        .map(
          (r) =>
            `<tr class="${r.status === 'mismatch' ? 'bad' : ''}"><td>${esc(r.name)}</td><td>${esc(r.status)}</td><td>${esc(r.message)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const indexes = result.indexes.length
    ? `<h2>Index parity</h2>\n<table><thead><tr><th>collection</th><th>index</th><th>status</th><th>detail</th></tr></thead><tbody>${result.indexes
        .map(
          (i) =>
            `<tr class="${i.status === 'warning' ? 'warn' : ''}"><td>${esc(i.collection)}</td><td>${esc(i.index)}</td><td>${esc(i.status)}</td><td>${esc(i.message)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f23; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.verdict { padding: .6rem 1rem; border-radius: 6px; font-weight: 600; }
.verdict.ok { background: #e6f4ea; color: #137333; } .verdict.bad { background: #fce8e6; color: #a50e0e; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fff5f5; } tr.warn td { background: #fffbe6; }
code { font: 12px ui-monospace, monospace; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>Level <b>${esc(result.level)}</b>${result.level === 'sample' ? ` (fraction ${esc(String(result.fraction))}, seed ${esc(String(result.seed))})` : ''}, schema <code>${esc(result.schema)}</code>, generated ${esc(when)}, ${result.seconds.toFixed(1)} s.</p>
<p class="verdict ${result.ok ? 'ok' : 'bad'}">${esc(verdict)}</p>
${sections}
${checks}
${indexes}
</body>
</html>
`;
}

function collectionSection(c: CollectionVerifyResult): string {
  const cells = [
    c.sourceCount,
    c.targetCount,
    c.rejected,
    c.level === 'count' ? '-' : c.matched,
    c.missing,
    c.extra,
    c.content,
  ];
  const summary = `<table><thead><tr><th>source</th><th>target</th><th>rejected</th><th>matched</th><th>missing</th><th>extra</th><th>content diffs</th><th>result</th></tr></thead>
<tbody><tr class="${c.ok ? '' : 'bad'}">${cells.map((n) => `<td class="n">${esc(String(n))}</td>`).join('')}<td>${!c.ok ? 'MISMATCH' : c.rejected > 0 ? 'INCOMPLETE' : 'ok'}</td></tr></tbody></table>`;
  const tables = (c.tables ?? []).length
    ? `<table><thead><tr><th>child table</th><th>expected rows</th><th>rows</th></tr></thead><tbody>${(
        c.tables ?? []
      )
        .map(
          (t) =>
            `<tr class="${t.expected === t.actual ? '' : 'bad'}"><td>${esc(t.table)}</td><td class="n">${t.expected}</td><td class="n">${t.actual}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const rows = c.differences.flatMap((d) => {
    const fields = d.fields === undefined || d.fields.length === 0 ? [undefined] : d.fields;
    return fields.map(
      (f) =>
        `<tr><td>${esc(d.kind)}</td><td><code>${esc(d.id)}</code></td><td><code>${esc(f?.path ?? '')}</code></td><td>${esc(f?.kind ?? '')}</td><td><code>${esc(f?.source ?? '')}</code></td><td><code>${esc(f?.target ?? '')}</code></td></tr>`,
    );
  });
  const diffs = rows.length
    ? `<table><thead><tr><th>difference</th><th>_id</th><th>field</th><th>how</th><th>source value</th><th>target value</th></tr></thead><tbody>${rows.join('')}</tbody></table>${
        c.truncated
          ? `<p>… ${c.missing + c.extra + c.content - c.differences.length} more differences not listed.</p>`
          : ''
      }`
    : c.ok
      ? '<p>No differences.</p>'
      : '';
  return `<h2>${esc(c.collection)}</h2>\n${summary}\n${tables}\n${diffs}`;
}

/** Escape text for HTML element content and attribute values. */
/** Every piece of text in the report is redacted (credentials never leave Ferry), then escaped. */
function esc(text: string): string {
  return redactSecrets(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
