/**
 * The digits of a decimal number as PostgreSQL's `numeric(precision, scale)` sees them.
 * Works on the text of a Decimal128 (`toString()`, which keeps trailing zeros: `1.50` has
 * scale 2) and on the shortest round-trip text of a double (`String(x)`), so one parser
 * answers "what numeric type holds every value seen".
 */
export interface DecimalShape {
  readonly negative: boolean;
  /** Significant digits without leading zeros; `'0'` for zero. */
  readonly coefficient: string;
  /** value = coefficient × 10^exponent. */
  readonly exponent: number;
  /** Total digits `numeric` needs (integer digits + scale), at least 1. */
  readonly precision: number;
  /** Digits after the decimal point. */
  readonly scale: number;
}

const DECIMAL_TEXT = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parse decimal text; `undefined` for NaN and the infinities, which have no digits.
 *
 * @example
 * decimalShape('1.50'); // { coefficient: '150', exponent: -2, precision: 3, scale: 2, … }
 * decimalShape('1.23E+5'); // { coefficient: '123', exponent: 3, precision: 6, scale: 0, … }
 */
export function decimalShape(text: string): DecimalShape | undefined {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  const digits = (m[2]! + fraction).replace(/^0+/, '');
  const coefficient = digits === '' ? '0' : digits;
  const exponent = Number(m[4] ?? '0') - fraction.length;
  const scale = Math.max(0, -exponent);
  const integerDigits = coefficient === '0' ? 0 : Math.max(0, coefficient.length + exponent);
  return {
    negative: m[1] === '-' && coefficient !== '0',
    coefficient,
    exponent,
    precision: Math.max(1, integerDigits + scale),
    scale,
  };
}

/**
 * Numeric order of two parsed decimals, without BigInt (Decimal128 exponents reach ±6176).
 *
 * @example
 * compareDecimal(decimalShape('1.5')!, decimalShape('1.50')!); // 0
 */
export function compareDecimal(a: DecimalShape, b: DecimalShape): number {
  const sa = a.coefficient === '0' ? 0 : a.negative ? -1 : 1;
  const sb = b.coefficient === '0' ? 0 : b.negative ? -1 : 1;
  if (sa !== sb || sa === 0) return sa - sb;
  const magnitude = compareMagnitude(a, b);
  return sa > 0 ? magnitude : -magnitude;
}

function compareMagnitude(a: DecimalShape, b: DecimalShape): number {
  // Position of the leading digit decides, then the digits themselves left-aligned.
  const ea = a.exponent + a.coefficient.length;
  const eb = b.exponent + b.coefficient.length;
  if (ea !== eb) return ea < eb ? -1 : 1;
  const len = Math.max(a.coefficient.length, b.coefficient.length);
  const ca = a.coefficient.padEnd(len, '0');
  const cb = b.coefficient.padEnd(len, '0');
  return ca < cb ? -1 : ca > cb ? 1 : 0;
}

/**
 * Canonical text of a parsed decimal, for snapshots (`-1.50`, `1.23E+5` stays `123000`).
 *
 * @example
 * formatDecimal(decimalShape('1.23E+5')!); // '123000'
 */
export function formatDecimal(shape: DecimalShape): string {
  const sign = shape.negative ? '-' : '';
  if (shape.exponent >= 0) {
    // Very large exponents are printed in E form rather than thousands of zeros.
    if (shape.exponent > 40) return `${sign}${shape.coefficient}E+${shape.exponent}`;
    return sign + shape.coefficient + (shape.coefficient === '0' ? '' : '0'.repeat(shape.exponent));
  }
  const digits = shape.coefficient.padStart(shape.scale + 1, '0');
  const cut = digits.length - shape.scale;
  return `${sign}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}
