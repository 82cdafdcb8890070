/**
 * The row representation shared by `toRows` (what Ferry writes) and `toDoc` (what it reads
 * back through the `pg` driver configured with `ferryTypes`). One representation both ways,
 * so `toDoc(toRows(d))` needs no database to be tested, and a row read from PostgreSQL is
 * the same JS value as the row written.
 *
 * | PostgreSQL type    | JS value                      | example                              |
 * |--------------------|-------------------------------|--------------------------------------|
 * | `uuid`             | lowercase string              | `'0190a1b2-…'`                       |
 * | `text`             | string                        | `'Ada'`                              |
 * | `integer`          | number                        | `42`                                 |
 * | `bigint`           | decimal string                | `'9007199254740993'`                 |
 * | `double precision` | string (shortest exact form)  | `'0.1'`, `'-0'`, `'NaN'`, `'Infinity'` |
 * | `numeric`, `numeric(p,s)` | exact decimal string, positional notation | `'1234.5600'`, `'NaN'` |
 * | `boolean`          | boolean                       | `true`                               |
 * | `timestamptz`      | string, UTC, milliseconds     | `'2024-01-31 12:00:00.123+00'`, `'0044-03-15 00:00:00.000+00 BC'` |
 * | `bytea`            | Buffer                        | `Buffer.from([1, 2])`                |
 * | `jsonb`            | JSON text (json-value.ts)     | `'{"n":5,"d":{"$numberDecimal":"1.5"}}'` |
 * | `<type>[]`         | array of the element values, `null` for NULL elements | `['a', null]` |
 * | SQL NULL           | `null`                        |                                      |
 *
 * Why strings for numbers: int8 and numeric do not fit a JS number, and even a double does
 * not survive the pg driver as a number (it sends `-0` as `'0'`). PostgreSQL prints
 * timestamptz in the session time zone and with trailing zeros trimmed; `toDoc` parses any
 * such form, so the text read back need not equal the text written byte for byte.
 *
 * Every value is valid input for both the `pg` driver (as a query parameter) and COPY text
 * format (after COPY's own escaping: booleans as `t`/`f`, Buffers as `\x` hex, arrays as
 * array literals).
 *
 * @example
 * const values: RowValue[] = [null, 'text', 42, true, Buffer.from([1]), ['a', null]];
 */
export type RowValue = null | string | number | boolean | Buffer | readonly RowValue[];

/**
 * One row: a value for every column of the table, by column name.
 *
 * @example
 * const row: RowValues = { id: '0190…', total: '9.50', tags: ['new'], _extra: null };
 */
export type RowValues = Readonly<Record<string, RowValue>>;

/**
 * All rows of one document, by table name (every table of the collection, maybe empty).
 *
 * @example
 * const rows: DocumentRows = new Map([
 *   ['orders', [{ id: '0190…', _extra: null }]],
 *   ['orders_items', []],
 * ]);
 */
export type DocumentRows = ReadonlyMap<string, readonly RowValues[]>;
