import { randomBytes } from 'node:crypto';
import { Decimal128, Long } from 'bson';

/**
 * Integers beyond ±2^53 in plain JSON, read exactly. `JSON.parse` reads every number as a
 * double, so `12345678901234567890` would arrive rounded (and Node 20's `JSON.parse` cannot
 * show a reviver the source text). Before parsing, each such integer literal is turned into a
 * string that carries its digits behind a marker no file contains (a private-use character
 * and a per-process random nonce); {@link exactInteger} turns it back into an int64 or, beyond
 * int64, a Decimal128 (PostgreSQL `numeric`), never a rounded double.
 */
const MARKER = `\u{f8ff}ferry-integer-${randomBytes(8).toString('hex')}:`;

// A string literal (skipped whole, so digits inside strings are never touched), or an integer
// literal of 16+ digits: not part of a fraction or an exponent, not followed by one.
const TOKEN = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![.\deE])/g;
const MAYBE = /\d{16}/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Decimal128 holds 34 significant digits exactly. */
const MAX_DIGITS = 34;

/**
 * The JSON text with every integer literal beyond ±(2^53 - 1) written as a marked string.
 * Text without such literals is returned as it is.
 *
 * @example
 * protectLargeIntegers('{"n":12345678901234567890}'); // '{"n":"\uf8ffferry-integer-…:12345678901234567890"}'
 */
export function protectLargeIntegers(text: string): string {
  if (!MAYBE.test(text)) return text;
  return text.replace(TOKEN, (token) => {
    if (token.charCodeAt(0) === 0x22) return token;
    const value = BigInt(token);
    return value > MAX_SAFE || value < -MAX_SAFE ? `"${MARKER}${token}"` : token;
  });
}

// In valid JSON a number starts the text or follows `:`, `,`, `[` or whitespace; a 16-digit
// run anywhere else (inside a string: a hex ObjectId, a phone number) cannot be one.
const LITERAL_MAYBE = /(?:^|[:,[\s])-?\d{16}/;

/**
 * `JSON.parse(protectLargeIntegers(text))`, without the rewrite for valid JSON that holds no
 * 16-digit integer literal: the rewrite scans every string of a record whose strings hold long
 * digit runs (every hex ObjectId does), and profiles of plain JSON files showed it costing half
 * as much as `JSON.parse`. Text that does not parse as it is takes the rewrite after all, so
 * invalid JSON fails with the very error it always did.
 *
 * @example
 * parseExactJson('{"n":12345678901234567890}'); // { n: '\uf8ffferry-integer-…:12345678901234567890' }
 */
export function parseExactJson(text: string): unknown {
  if (!mayHoldLargeInteger(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // Fall through: the error to report is the one the rewritten text gives.
    }
  }
  return JSON.parse(protectLargeIntegers(text));
}

/**
 * Whether an integer literal of 16 or more digits may start in the text: only then can
 * `parseExactJson` give a marked string (see {@link exactInteger}) rather than `JSON.parse`'s value.
 *
 * @example
 * mayHoldLargeInteger('{"id":"59b99db4cfa9a34dcd788561"}'); // false
 */
export function mayHoldLargeInteger(text: string): boolean {
  return LITERAL_MAYBE.test(text);
}

/** Thrown for an integer literal longer than any exact BSON number (over 34 digits). */
export class IntegerTooLongError extends Error {
  constructor(digits: number) {
    super(
      `an integer of ${digits} digits is longer than any BSON number holds exactly (34); write it as a string`,
    );
    this.name = 'IntegerTooLongError';
  }
}

/**
 * The exact number a marked string stands for (int64, else Decimal128), or undefined for
 * any other value.
 *
 * @example
 * exactInteger(JSON.parse(protectLargeIntegers('[9007199254740993]'))[0]); // Long 9007199254740993
 */
export function exactInteger(value: unknown): Long | Decimal128 | undefined {
  if (typeof value !== 'string' || !value.startsWith(MARKER)) return undefined;
  const digits = value.slice(MARKER.length);
  const big = BigInt(digits);
  if (big >= INT64_MIN && big <= INT64_MAX) return Long.fromBigInt(big);
  const length = digits.replace('-', '').length;
  if (length > MAX_DIGITS) throw new IntegerTooLongError(length);
  return Decimal128.fromString(digits);
}
