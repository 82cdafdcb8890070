/**
 * A fixed-width table: the summary format every command and report shares. Number columns
 * (judged by the first row) are right-aligned, everything else left-aligned.
 *
 * @example
 * renderTable(['collection', 'documents'], [['users', 1200], ['orders', 98]])
 * // collection  documents
 * // ----------  ---------
 * // users            1200
 * // orders             98
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) =>
        typeof rows[0]?.[i] === 'number' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
