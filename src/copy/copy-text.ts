import type { RowValue, RowValues } from '../mapping/row-values.js';

/**
 * Row values (row-values.ts) as lines of PostgreSQL's COPY text format. Into a PostgreSQL
 * server the backfill writes binary rows (copy-binary.ts) where it can; text is what every
 * other case gets, because PostgreSQL converts text into whatever type a column has, while a
 * binary value must be of the column's exact type: the embedded PGlite target (its rows
 * packed into a `/dev/blob`), a table whose column types were changed by hand since Ferry
 * made it (load/binary-guard.ts), a table with a column that has no binary form, and a run
 * with binary COPY turned off. Text rather than CSV because its escaping is a fixed
 * four-character table with no quoting state.
 */

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/** Array elements that must be double-quoted so `array_in` reads them back verbatim. */
const ARRAY_NEEDS_QUOTES = /[{}",\\\s]|^$|^null$/i;

/**
 * One row as a COPY text line (with its trailing newline), columns in the order given.
 * Throws when the row has no value for a column: `toRows` gives every column a value, so a
 * missing one is a bug upstream, and writing NULL for it would lose data silently.
 *
 * @example
 * encodeCopyLine({ id: 1, name: 'a\tb', tags: ['x', null] }, ['id', 'name', 'tags'])
 * // '1\ta\\tb\t{x,NULL}\n'
 */
export function encodeCopyLine(row: RowValues, columns: readonly string[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const value = row[column];
    if (value === undefined) throw new Error(`row has no value for column "${column}"`);
    if (i > 0) line += '\t';
    line += encodeCopyField(value);
  }
  return `${line}\n`;
}

/**
 * One value as a COPY text field: `\N` for NULL, `t`/`f` for booleans, `\\x…` for bytea, an
 * array literal for arrays; everything escaped for COPY.
 *
 * @example
 * encodeCopyField(null)                    // '\\N'
 * encodeCopyField(Buffer.from([1, 255]))   // '\\\\x01ff'
 * encodeCopyField(['a b', ''])             // '{"a b",""}'
 */
export function encodeCopyField(value: RowValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return escapeCopy(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  // bytea's `\x` prefix is itself a backslash, which COPY wants doubled.
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  return escapeCopy(arrayLiteral(value));
}

/**
 * A PostgreSQL array literal (`{a,"b c",NULL}`) for an array row value, nested arrays as
 * multi-dimensional literals. Not yet escaped for COPY.
 *
 * @example
 * arrayLiteral(['NULL', null, 'a"b'])   // '{"NULL",NULL,"a\\"b"}'
 */
export function arrayLiteral(values: readonly RowValue[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    out += arrayElement(values[i]!);
  }
  return `${out}}`;
}

function arrayElement(value: RowValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (Buffer.isBuffer(value)) return `"\\\\x${value.toString('hex')}"`;
  if (typeof value !== 'string') return arrayLiteral(value);
  return ARRAY_NEEDS_QUOTES.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : value;
}

function escapeCopy(text: string): string {
  // Most values have nothing to escape; testing first skips building a new string for them.
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : text;
}
