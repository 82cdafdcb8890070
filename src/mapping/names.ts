import { createHash } from 'node:crypto';

/** PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1), silently; we never let it. */
export const MAX_IDENTIFIER_BYTES = 63;

const HASH_CHARS = 8;

/**
 * A field name or path as a snake_case identifier: camelCase splits, anything that is not a
 * letter or digit becomes `_`, runs collapse, and a leading digit gets a `_` prefix so the name
 * needs no quoting in hand-written SQL. Unicode letters are kept (identifiers are always
 * quoted by Ferry, and a user reading `café_total` learns more than from `caf_total`).
 *
 * @example
 * snakeCase('orderItems')   // 'order_items'
 * snakeCase('a.b $c')       // 'a_b_c'
 * snakeCase('2fa')          // '_2fa'
 */
export function snakeCase(name: string): string {
  const words = name
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1_$2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1_$2')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
  if (words === '') return 'field';
  return /^\p{N}/u.test(words) ? `_${words}` : words;
}

/**
 * An identifier that fits PostgreSQL's 63-byte limit. A longer name keeps as much of its
 * readable prefix as fits (cut on a character boundary) and ends with `_` plus 8 hex chars of
 * the SHA-256 of the full name, so the same long name always shortens to the same identifier
 * and two long names that share a prefix stay distinct.
 *
 * @example
 * pgIdentifier('users')                  // 'users'
 * pgIdentifier('x'.repeat(80))           // 'xxxx…x_1a2b3c4d' (63 bytes)
 */
export function pgIdentifier(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_CHARS);
  const budget = MAX_IDENTIFIER_BYTES - HASH_CHARS - 1;
  let prefix = '';
  let bytes = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > budget) break;
    prefix += char;
    bytes += size;
  }
  return `${prefix}_${hash}`;
}

/**
 * The default name of a column for a field path within a table's element: the snake_case
 * segments joined by `_`, shortened to fit.
 *
 * @example
 * columnName(['address', 'zipCode'])   // 'address_zip_code'
 * columnName([])                        // 'value' (the element itself, in a child table of scalars)
 */
export function columnName(path: readonly string[]): string {
  if (path.length === 0) return 'value';
  return pgIdentifier(path.map(snakeCase).join('_'));
}

/**
 * The default name of a child table for the array or map at `path` of `parentTable`.
 *
 * @example
 * childTableName('orders', ['lineItems'])   // 'orders_line_items'
 */
export function childTableName(parentTable: string, path: readonly string[]): string {
  return pgIdentifier([parentTable, ...path.map(snakeCase)].join('_'));
}

/**
 * `base`, or `base_2`, `base_3`… — the first that is not in `taken`, still within 63 bytes.
 * Plan builders use it where two fields snake_case to the same name (`a.b` and `a_b`).
 *
 * @example
 * uniqueName('a_b', new Set(['a_b']))   // 'a_b_2'
 */
export function uniqueName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    // A long base hashes differently with each suffix, so the shortened names stay distinct.
    const candidate = pgIdentifier(`${base}_${n}`);
    if (!taken.has(candidate)) return candidate;
  }
}
