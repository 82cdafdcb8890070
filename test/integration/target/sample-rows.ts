import { parseTimestamptz, timestamptzText } from '../../../src/mapping/pg-text.js';
import type { RowValue, RowValues } from '../../../src/mapping/row-values.js';

/**
 * Rows with every kind of row value the COPY encoder handles, made from their index so any
 * row can be rebuilt to compare with what the database gives back.
 */

export const ALL_KINDS_DDL = `create table if not exists "public"."all kinds" (
  id integer primary key,
  u uuid,
  t text,
  n numeric,
  big bigint,
  d double precision,
  ts timestamptz,
  j jsonb,
  ta text[],
  na numeric[],
  ia integer[],
  b bytea,
  ba bytea[],
  ok boolean,
  nothing text
)`;

export const ALL_KINDS_COLUMNS = [
  'id',
  'u',
  't',
  'n',
  'big',
  'd',
  'ts',
  'j',
  'ta',
  'na',
  'ia',
  'b',
  'ba',
  'ok',
  'nothing',
];

const TEXTS = [
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  'back\\slash \\N \\x',
  'ünïcødé 🚀 ∑ 中文',
  '',
  'NULL',
  '\\N',
  '"quoted", {braced}',
  ' leading and trailing ',
];

const ARRAY_TEXTS: readonly (string | null)[] = [
  'a',
  null,
  '',
  'NULL',
  'x y',
  '"q"',
  'b\\s',
  '{}',
  'c,d',
  'tab\t',
];

const DOUBLES = ['0.1', '-0', 'NaN', 'Infinity', '-Infinity', '1e+300', '5e-324', '123.456', '-2.5'];

const DAY_MS = 86_400_000;

function numeric34(i: number): string {
  const digits = `${i}1234567890123456789012345678901234`.slice(0, 34);
  return `${i % 2 ? '-' : ''}${digits.slice(0, 28)}.${digits.slice(28)}`;
}

export function sampleRow(i: number): RowValues {
  const hex = i.toString(16).padStart(12, '0');
  const ms = i % 97 === 0 ? Date.UTC(-43, 2, 15, 1, 2, 3, 4) : Date.UTC(2024, 0, 1) + i * DAY_MS + (i % 1000);
  const row: Record<string, RowValue> = {
    id: i,
    u: `01900000-0000-7000-8000-${hex}`,
    t: i % 11 === 10 ? `plain ${i}` : TEXTS[i % TEXTS.length]!,
    // 34 significant digits, as a Decimal128 holds.
    n: numeric34(i),
    big: (2n ** 53n + BigInt(i)).toString(),
    d: DOUBLES[i % DOUBLES.length]!,
    ts: timestamptzText(new Date(ms))!,
    j: JSON.stringify({ i, s: 'tab\tnl\n"q" é', nested: [1, { k: null }] }),
    ta: i % 5 === 0 ? [] : ARRAY_TEXTS.slice(0, (i % ARRAY_TEXTS.length) + 1),
    na: i % 3 === 0 ? [null] : ['1.50', null, '-0.000001'],
    ia: i % 4 === 0 ? [] : [i, null, -i],
    b: i % 7 === 0 ? Buffer.alloc(0) : Buffer.from([0, 0x5c, 0x09, 0x0a, 0xff, i & 0xff]),
    ba: i % 6 === 0 ? [] : [Buffer.from([0x5c, 0x22]), null],
    ok: i % 3 === 0 ? null : i % 3 === 1,
    nothing: null,
  };
  return row;
}

/** `count` rows in batches of `batch`, as an async iterable like the loaders give. */
export async function* sampleBatches(count: number, batch = 1000, start = 1): AsyncGenerator<RowValues[]> {
  for (let from = start; from < start + count; from += batch) {
    const rows: RowValues[] = [];
    for (let i = from; i < Math.min(from + batch, start + count); i++) rows.push(sampleRow(i));
    yield rows;
  }
}

/**
 * A row with the two values whose text PostgreSQL may print differently from what was
 * written made comparable: timestamptz as ms (trailing zeros trimmed, BC), jsonb parsed
 * (`{"a":1}` comes back as `{"a": 1}`).
 */
export function comparable(row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return {
    ...row,
    ts: typeof row.ts === 'string' ? parseTimestamptz(row.ts) : row.ts,
    j: typeof row.j === 'string' ? JSON.parse(row.j) : row.j,
  };
}
