/**
 * What an object key looks like. Field names are identifiers chosen by a developer; keys of
 * a map are data (ids, dates, codes). A key's shape is the cheapest evidence of which it is.
 */
export type KeyShape =
  | 'objectIdHex'
  | 'uuid'
  | 'number'
  | 'isoDate'
  | 'currencyCode'
  | 'countryCode'
  | 'fieldName'
  | 'other';

/**
 * Shapes in snapshot order.
 *
 * @example
 * KEY_SHAPES[0]; // 'objectIdHex'
 */
export const KEY_SHAPES: readonly KeyShape[] = [
  'objectIdHex',
  'uuid',
  'number',
  'isoDate',
  'currencyCode',
  'countryCode',
  'fieldName',
  'other',
];

/**
 * Shapes that developers do not use as field names: one such key is already strong evidence.
 * Currency and country codes are weaker (`ID`, `IT` and `EUR` could be constants), so the
 * map verdict asks for several of them (see map-likeness.ts).
 */
export const STRONG_DATA_SHAPES: ReadonlySet<KeyShape> = new Set([
  'objectIdHex',
  'uuid',
  'number',
  'isoDate',
]);

/** Shapes that count as "the key is data". */
export const DATA_SHAPES: ReadonlySet<KeyShape> = new Set([
  'objectIdHex',
  'uuid',
  'number',
  'isoDate',
  'currencyCode',
  'countryCode',
]);

const OBJECT_ID_HEX = /^[0-9a-fA-F]{24}$/;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const NUMBER = /^-?\d+(\.\d+)?$/;
// A calendar date, optionally with a time; also year-month (`2024-01`) used by monthly buckets.
const ISO_DATE =
  /^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?$/;
const UPPER2 = /^[A-Z]{2}$/;
const UPPER3 = /^[A-Z]{3}$/;
// An identifier a developer would type: letters, digits, _ and $, not starting with a digit.
const FIELD_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

// ICU ships with Node 20 (full-icu), so ISO 4217 / 3166 lists need not be copied into Ferry.
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

function isRegion(code: string): boolean {
  try {
    const name = regionNames.of(code);
    // Unassigned codes fall back to themselves; ZZ is "Unknown Region".
    return name !== undefined && name !== code && code !== 'ZZ';
  } catch {
    return false;
  }
}

/**
 * Classify one key. Order matters: `20240103` is a number before anything else, and an
 * ObjectId hex is not a UUID.
 *
 * @example
 * keyShape('5f1d7a3e9b1e8a0012345678'); // 'objectIdHex'
 * keyShape('2024-01-03'); // 'isoDate'
 * keyShape('USD'); // 'currencyCode'
 * keyShape('firstName'); // 'fieldName'
 */
export function keyShape(key: string): KeyShape {
  if (OBJECT_ID_HEX.test(key)) return 'objectIdHex';
  if (UUID.test(key)) return 'uuid';
  if (NUMBER.test(key)) return 'number';
  if (ISO_DATE.test(key)) return 'isoDate';
  if (UPPER3.test(key) && CURRENCIES.has(key)) return 'currencyCode';
  if (UPPER2.test(key) && isRegion(key)) return 'countryCode';
  if (FIELD_NAME.test(key)) return 'fieldName';
  return 'other';
}
