import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { asFerryError, ExitCode, FerryError } from '../../core/errors.js';
import { renderTable } from '../../core/render-table.js';
import { openTarget } from '../../target/open-target.js';
import type { Queryable } from '../../target/target-database.js';
import { commandContext } from '../context.js';
import { emit, type Output } from '../output.js';

/** What one statement gave. */
interface SqlResult {
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
  readonly rowCount: number;
}

/**
 * `ferry sql "<query>"` runs one statement on the target, embedded or not, and prints the
 * rows as a table (`--json`: `{ columns, rows, rowCount }`). Without a query it reads
 * statements from stdin, each ending with `;` (a prompt on a terminal), printing each result
 * and carrying on after an error; the exit code is then 1 if any statement failed.
 */
export function registerSql(program: Command): void {
  program
    .command('sql')
    .description(
      'run SQL on the target (embedded or not) and print the rows; without a query, read statements from stdin',
    )
    .argument('[query]', 'one SQL statement; omit it to type statements ending with ";"')
    .action(async (query: string | undefined, _flags: unknown, command: Command) => {
      const { out, config } = await commandContext(command);
      const db = await openTarget(config.target);
      try {
        if (query !== undefined) print(out, await run(db, query));
        else if (!(await interactive(db, out))) process.exitCode = ExitCode.problem;
      } finally {
        await db.close();
      }
    });
}

async function run(db: Queryable, sql: string): Promise<SqlResult> {
  let result: { rows: Record<string, unknown>[]; rowCount: number };
  try {
    result = await db.query<Record<string, unknown>>(sql);
  } catch (cause) {
    // The statement is the user's own input: a failure is bad input (exit 2), not a Ferry bug.
    const error = asFerryError(cause);
    if (error.category === 'environment') throw error;
    throw new FerryError(error.message, { code: 'SQL_QUERY_FAILED', category: 'input', cause });
  }
  const { rows, rowCount } = result;
  // Rows keep the statement's column order in their keys (both drivers build them that way).
  return { columns: rows[0] === undefined ? [] : Object.keys(rows[0]), rows, rowCount };
}

function print(out: Output, result: SqlResult): void {
  emit(out, { ...result, rows: result.rows.map(jsonRow) }, () => {
    const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
    if (result.columns.length === 0) return result.rowCount > 0 ? `OK, ${result.rowCount} row(s)` : count;
    const cells = result.rows.map((row) => result.columns.map((c) => cellText(row[c])));
    return `${renderTable(result.columns, cells)}\n${count}`;
  });
}

/** Statements from stdin, each ending with `;`; true when every one succeeded. */
async function interactive(db: Queryable, out: Output): Promise<boolean> {
  const terminal = process.stdin.isTTY === true;
  const lines = createInterface({ input: process.stdin, ...(terminal && { output: process.stderr }) });
  let ok = true;
  let pending = '';
  const execute = async (statement: string) => {
    try {
      print(out, await run(db, statement));
    } catch (error) {
      ok = false;
      out.error(`error: ${asFerryError(error).message}`);
    }
  };
  if (terminal) lines.setPrompt('ferry> ');
  if (terminal) lines.prompt();
  for await (const line of lines) {
    pending = pending === '' ? line : `${pending}\n${line}`;
    const trimmed = pending.trim();
    if (trimmed.endsWith(';')) {
      pending = '';
      if (trimmed !== ';') await execute(trimmed.slice(0, -1));
    }
    if (terminal) lines.setPrompt(pending === '' ? 'ferry> ' : '   ...> ');
    if (terminal) lines.prompt();
  }
  if (pending.trim() !== '') await execute(pending.trim());
  return ok;
}

/** A value as text for the table: NULL empty, as psql shows it. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(jsonValue(value));
  return String(value);
}

function jsonRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)]));
}

/** Values JSON.stringify would mangle: bytea as `\x` hex, bigint as text. */
function jsonValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonValue);
  return value;
}
