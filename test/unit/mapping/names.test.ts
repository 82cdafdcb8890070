import { describe, expect, it } from 'vitest';
import {
  childTableName,
  columnName,
  pgIdentifier,
  snakeCase,
  uniqueName,
} from '../../../src/mapping/names.js';

describe('identifier rules', () => {
  it('snake_cases camelCase, dots, dollars and spaces, and prefixes a leading digit', () => {
    expect(snakeCase('orderItems')).toBe('order_items');
    expect(snakeCase('HTTPStatus')).toBe('http_status');
    expect(snakeCase('a.b $c')).toBe('a_b_c');
    expect(snakeCase('2fa')).toBe('_2fa');
    expect(snakeCase('$$')).toBe('field');
    expect(snakeCase('Café Total')).toBe('café_total');
  });

  it('joins paths into column and child table names', () => {
    expect(columnName(['address', 'zipCode'])).toBe('address_zip_code');
    expect(childTableName('orders', ['lineItems'])).toBe('orders_line_items');
  });

  it('keeps names of 63 bytes and shortens longer ones deterministically with a hash suffix', () => {
    const exact = 'x'.repeat(63);
    expect(pgIdentifier(exact)).toBe(exact);
    const long = `${'a'.repeat(70)}_one`;
    const other = `${'a'.repeat(70)}_two`;
    const short = pgIdentifier(long);
    expect(Buffer.byteLength(short)).toBeLessThanOrEqual(63);
    expect(short).toMatch(/^a+_[0-9a-f]{8}$/);
    expect(pgIdentifier(long)).toBe(short);
    expect(pgIdentifier(other)).not.toBe(short);
  });

  it('counts bytes, not characters, and never cuts a multi-byte character in half', () => {
    const name = 'é'.repeat(40); // 80 bytes
    const short = pgIdentifier(name);
    expect(Buffer.byteLength(short)).toBeLessThanOrEqual(63);
    expect(short.startsWith('é'.repeat(27))).toBe(true);
    expect(short).not.toContain('\uFFFD');
  });

  it('finds the next free name when two fields snake_case alike', () => {
    expect(uniqueName('a_b', new Set(['a_b']))).toBe('a_b_2');
    expect(uniqueName('a_b', new Set(['a_b', 'a_b_2']))).toBe('a_b_3');
    const long = 'y'.repeat(63);
    const next = uniqueName(long, new Set([long]));
    expect(Buffer.byteLength(next)).toBeLessThanOrEqual(63);
    expect(next).not.toBe(long);
  });
});
