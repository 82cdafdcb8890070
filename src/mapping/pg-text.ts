import type { Decimal128 } from 'bson';
import { numberKey } from './canonical/index.js';
import {
  decimalFromString,
  decimalParts,
  readSmallDecimal128,
  type SmallDecimalParts,
} from './decimal-parts.js';

/**
 * Exact text forms of dates and numbers as PostgreSQL reads and prints them. Ferry never
 * lets these pass through a JS number or a JS Date parser, which would round an int64, lose a
 * BC year or shift by the session time zone.
 */

/** 4714-11-24 00:00:00 UTC BC (proleptic Gregorian), PostgreSQL's first timestamptz. */
export const MIN_TIMESTAMPTZ_MS = Date.UTC(-4713, 10, 24);

/**
 * A date as PostgreSQL `timestamptz` input, in UTC with milliseconds, or undefined when
 * PostgreSQL cannot hold it (invalid, or before 4714 BC). JS's ISO form is not used because
 * PostgreSQL reads neither its `+275760` nor its `-000001` years; it wants `4714-11-24 … BC`.
 *
 * @example
 * timestamptzText(new Date(0))                      // '1970-01-01 00:00:00.000+00'
 * timestamptzText(new Date(Date.UTC(-1, 0, 1)))    // '0002-01-01 00:00:00.000+00 BC'
 */
export function timestamptzText(date: Date): string | undefined {
  const ms = date.getTime();
  if (Number.isNaN(ms) || ms < MIN_TIMESTAMPTZ_MS) return undefined;
  const year = date.getUTCFullYear();
  const bc = year <= 0;
  const shown = bc ? 1 - year : year;
  const millis = date.getUTCMilliseconds();
  // One call per date of every document loaded: table lookups rather than padStart.
  const text =
    `${shown >= 1000 ? shown : pad(shown, 4)}-${TWO_DIGITS[date.getUTCMonth() + 1]}-${TWO_DIGITS[date.getUTCDate()]} ` +
    `${TWO_DIGITS[date.getUTCHours()]}:${TWO_DIGITS[date.getUTCMinutes()]}:${TWO_DIGITS[date.getUTCSeconds()]}` +
    `.${millis >= 100 ? millis : `0${TWO_DIGITS[millis]}`}+00`;
  return bc ? `${text} BC` : text;
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

const TIMESTAMPTZ =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::?(\d\d)(?::?(\d\d))?)?)?( BC)?$/;

/**
 * PostgreSQL's `timestamptz` output (DateStyle ISO, any session time zone) back to
 * milliseconds since the epoch, or undefined when the text is not one Ferry could have written
 * (`infinity`, or sub-millisecond digits).
 *
 * @example
 * parseTimestamptz('1970-01-01 01:00:00+01')         // 0
 * parseTimestamptz('0002-01-01 00:00:00+00 BC')      // Date.UTC(-1, 0, 1)
 */
export function parseTimestamptz(text: string): number | undefined {
  const utc = parseUtcTimestamptz(text);
  if (utc !== undefined) return utc;
  const m = TIMESTAMPTZ.exec(text);
  if (m === null) return undefined;
  const fraction = (m[7] ?? '').padEnd(6, '0');
  if (fraction.slice(3) !== '000') return undefined;
  const yearText = Number(m[1]);
  const year = m[12] ? 1 - yearText : yearText;
  // Midnight of the local date, then time and offset by arithmetic: the local wall time of
  // JS's last instant (+275760-09-13 00:00 UTC) seen from UTC+5:30 is itself out of Date range.
  const day = new Date(0);
  day.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  const sign = m[8] === '-' ? -1 : 1;
  const offsetSeconds = sign * (Number(m[9] ?? 0) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0));
  const seconds = Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]) - offsetSeconds;
  const ms = day.getTime() + seconds * 1000 + Number(fraction.slice(0, 3));
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * `parseTimestamptz` of the form Ferry's UTC sessions print, `YYYY-MM-DD HH:MM:SS[.f…]+00`
 * with a four-digit AD year, by character codes: an export parses one per date of every
 * document, and the regular expression, its strings and a Date each time cost several times
 * more. Undefined for any other text, which the general parser then reads (years below 1000
 * too: `Date.UTC` reads 0–99 as 1900–1999).
 */
function parseUtcTimestamptz(text: string): number | undefined {
  const n = text.length;
  if (n < 22 || n > 29 || !text.endsWith('+00')) return undefined;
  if (
    text.charCodeAt(4) !== 0x2d ||
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x20 ||
    text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a
  )
    return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hours = digitsAt(text, 11, 2);
  const minutes = digitsAt(text, 14, 2);
  const seconds = digitsAt(text, 17, 2);
  if (year < 1000 || month < 0 || day < 0 || hours < 0 || minutes < 0 || seconds < 0) return undefined;
  let ms = 0;
  if (n > 22) {
    // `.` and one to six digits; only whole milliseconds are Ferry's.
    const digits = n - 23;
    if (text.charCodeAt(19) !== 0x2e || digits < 1) return undefined;
    const fraction = digitsAt(text, 20, digits);
    if (fraction < 0) return undefined;
    const micros = fraction * 10 ** (6 - digits);
    if (micros % 1000 !== 0) return undefined;
    ms = micros / 1000;
  }
  return Date.UTC(year, month - 1, day, hours, minutes, seconds, ms);
}

/** The decimal number of `length` ASCII digits at `start`, or -1 when one is not a digit. */
function digitsAt(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * A double as PostgreSQL `double precision` input. JS's shortest round-trip form is exact
 * for float8in; `-0` is spelled out because `String(-0)` is `'0'`, and the pg driver would
 * send exactly that for a JS number.
 *
 * @example
 * doubleText(-0)        // '-0'
 * doubleText(Infinity)  // 'Infinity'
 */
export function doubleText(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/**
 * A Decimal128 as PostgreSQL `numeric` input in plain positional notation, keeping its scale
 * (`1.50` stays `1.50`): PostgreSQL's numeric input limits exponents, plain digits it reads
 * whatever the magnitude, and every finite Decimal128 fits a `numeric`.
 *
 * @example
 * import { Decimal128 } from 'bson';
 * decimalText(Decimal128.fromString('1.23E+5'))   // '123000'
 * decimalText(Decimal128.fromString('-1.5E-3'))   // '-0.0015'
 * decimalText(Decimal128.fromString('NaN'))       // 'NaN'
 */
export function decimalText(value: Decimal128): string {
  const small = smallDecimalText(value.bytes);
  if (small !== undefined) return small;
  const parts = decimalParts(value);
  if (parts === undefined) return value.toString(); // NaN, Infinity, -Infinity: spelled the same in PostgreSQL
  return (parts.negative ? '-' : '') + positional(parts.coefficient.toString(), parts.exponent);
}

/**
 * `decimalText` for the common case, a finite value whose coefficient is below 2^53 (every
 * amount of money), with plain numbers instead of bigints. Undefined for anything else.
 */
function smallDecimalText(bytes: Uint8Array): string | undefined {
  if (!readSmallDecimal128(bytes, 0, SMALL)) return undefined;
  return (SMALL.negative ? '-' : '') + positional(String(SMALL.coefficient), SMALL.exponent);
}

const SMALL: SmallDecimalParts = { negative: false, coefficient: 0, exponent: 0 };

/** `digits × 10^exponent` in positional notation, keeping every digit given. */
function positional(digits: string, exponent: number): string {
  if (exponent >= 0) return digits === '0' ? '0' : digits + '0'.repeat(exponent);
  const places = -exponent;
  const padded = digits.padStart(places + 1, '0');
  return `${padded.slice(0, padded.length - places)}.${padded.slice(padded.length - places)}`;
}

/** Decimal128 holds 34 significant digits and exponents -6176…6111 (of the coefficient). */
const DECIMAL128_DIGITS = 34;

/**
 * The exact value of a double as `numeric` text, when a Decimal128 can hold that exact value
 * (so `toDoc` can give it back), else undefined. 0.5 qualifies; 0.1 does not (its exact binary
 * value has 55 significant digits); NaN and ±Infinity do not (numeric(p,s) refuses them).
 *
 * @example
 * exactDoubleDecimalText(0.5)    // '0.5'
 * exactDoubleDecimalText(0.1)    // undefined
 */
export function exactDoubleDecimalText(x: number): string | undefined {
  if (!Number.isFinite(x)) return undefined;
  const m = /^(-)?(\d+)(?:e(-?\d+))?$/.exec(numberKey(x));
  if (m === null || m[2]!.length > DECIMAL128_DIGITS) return undefined;
  return (m[1] ?? '') + positional(m[2]!, Number(m[3] ?? 0));
}

/**
 * How many digits a numeric text has before and after the point, ignoring leading zeros
 * before it and trailing zeros after it (what `numeric(p,s)` would have to hold), or undefined
 * for NaN/Infinity.
 *
 * @example
 * numericShape('-00120.500')   // { integerDigits: 3, scale: 1 }
 */
export function numericShape(text: string): { integerDigits: number; scale: number } | undefined {
  const m = /^-?(\d+)(?:\.(\d*))?$/.exec(text);
  if (m === null) return undefined;
  const integer = m[1]!.replace(/^0+/, '');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  return { integerDigits: integer.length, scale: fraction.length };
}

/**
 * `numeric` text as PostgreSQL prints it back to a Decimal128. Positional text of an extreme
 * value (`1` and 6144 zeros) folds its trailing zeros into the exponent; anything else that
 * does not fit exactly throws, because Ferry only writes values that fit.
 *
 * @example
 * decimalFromText('123000')   // Decimal128('123000')
 */
export function decimalFromText(text: string): Decimal128 {
  return decimalFromString(text);
}
