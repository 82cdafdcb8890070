import {
  Binary,
  BSONRegExp,
  Code,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'bson';
import type { Random } from './random.js';

/**
 * The earliest instant PostgreSQL's `timestamptz` holds: 4714-11-24 00:00:00 UTC BC (Julian
 * day 0), i.e. proleptic Gregorian year -4713. The latest (294276 AD) lies beyond a JS Date's
 * reach (±8.64e15 ms, about 275760 AD), so only the lower edge can be crossed from JS.
 */
export const PG_TIMESTAMPTZ_MIN_MS = Date.UTC(-4713, 10, 24);
const JS_DATE_LIMIT_MS = 8.64e15;
const DAY_MS = 86_400_000;

/** Knobs the value factory reads (see `GenerateOptions` for their meaning and defaults). */
export interface ValueKnobs {
  readonly nastiness: number;
  readonly unloadable: boolean;
  readonly maxDepth: number;
  readonly longStringLength: number;
}

const NASTY_STRINGS = [
  '',
  ' ',
  'Grüße, Jürgen',
  'ключ к успеху',
  '日本語のテキスト',
  'שלום עולם',
  '🚀🔥 launch',
  '👩‍👩‍👧‍👦 family',
  'e\u0301 (combining accent)',
  '\u00e9 (precomposed)',
  'zero\u200bwidth',
  'tab\tnew\nline\r\n',
  `quotes " ' \` and \\ backslash`,
  "'); DROP TABLE users;--",
  '{"$oid":"5f0000000000000000000000"}',
  '{"$numberDecimal":"1.5"}',
  'null',
  '\u{10ffff} last code point',
];

/** Keys that trip naive mappings: dots, `$`, spaces, non-ASCII, emoji, prototype names, 63+ chars. */
export const NASTY_KEYS = [
  'a.b',
  'a.b.c',
  '$price',
  'price$',
  'with space',
  ' padded ',
  'ключ',
  '日本',
  '🚀',
  'UPPER_case',
  'constructor',
  'toString',
  '_id',
  '123',
  '',
  'k'.repeat(70),
  'camelCaseKeyThatIsFairlyLongButNotTooLong',
];

const EDGE_DOUBLES = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0.1,
  0.30000000000000004,
  5e-324,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  2 ** 53,
  2 ** 53 + 2,
  1e23,
  5,
  -1,
];

const EDGE_LONGS = [
  '9007199254740993',
  '-9007199254740993',
  '9223372036854775807',
  '-9223372036854775808',
  '18014398509481985',
  '0',
  '-1',
];

const EDGE_DECIMALS = [
  '1234567890123456789012345678901234',
  '-9.999999999999999999999999999999999E+6144',
  '9.999999999999999999999999999999999E+6144',
  '1E-6176',
  '-1E-6176',
  '1.000000000000000000000000000000000',
  '0E+300',
  '-0',
  '0.1',
  '19.99',
  'NaN',
  'Infinity',
  '-Infinity',
  '0.000000000000000000000000000000001',
];

/** Factories for single values, typical or nasty. One instance per generated stream. */
export class ValueFactory {
  constructor(
    private readonly rng: Random,
    private readonly knobs: ValueKnobs,
  ) {}

  /** True when this field should take an edge case instead of a typical value. */
  nasty(): boolean {
    return this.rng.chance(this.knobs.nastiness);
  }

  string(typical: () => string): string {
    if (!this.nasty()) return typical();
    const roll = this.rng.int(0, 9);
    if (roll === 0) return this.longString();
    if (roll === 1 && this.knobs.unloadable) return `nul\u0000inside ${this.rng.int(0, 99)}`;
    return this.rng.pick(NASTY_STRINGS);
  }

  longString(): string {
    const unit = this.rng.pick(['abc ', 'ü', '🚀', 'line\n', 'x']);
    return unit.repeat(Math.ceil(this.knobs.longStringLength / unit.length));
  }

  key(typical: string): string {
    return this.nasty() ? this.rng.pick(NASTY_KEYS) : typical;
  }

  int32(min = 0, max = 1000): Int32 {
    if (this.nasty()) return new Int32(this.rng.pick([-(2 ** 31), 2 ** 31 - 1, 0, -1]));
    return new Int32(this.rng.int(min, max));
  }

  double(min = 0, max = 1000): Double {
    if (this.nasty()) return new Double(this.rng.pick(EDGE_DOUBLES));
    return new Double(min + this.rng.float() * (max - min));
  }

  long(): Long {
    if (this.nasty()) return Long.fromString(this.rng.pick(EDGE_LONGS));
    return Long.fromBigInt(BigInt(this.rng.int(0, 2 ** 31)) * 1000n);
  }

  decimal(): Decimal128 {
    if (this.nasty()) {
      if (this.rng.chance(0.5)) return Decimal128.fromString(this.rng.pick(EDGE_DECIMALS));
      // 34 random digits at an extreme exponent.
      let digits = String(this.rng.int(1, 9));
      while (digits.length < 34) digits += String(this.rng.int(0, 9));
      const exponent = this.rng.pick([-6176, -6143, -100, 0, 100, 6111 - 33]);
      return Decimal128.fromString(`${this.rng.chance(0.5) ? '-' : ''}${digits}E${exponent}`);
    }
    return Decimal128.fromString(`${this.rng.int(0, 9999)}.${String(this.rng.int(0, 99)).padStart(2, '0')}`);
  }

  /**
   * A number whose BSON type varies from document to document, as a field does when several
   * application versions wrote it: the same field sees Int32, Double, Long and Decimal128.
   */
  mixedNumber(): Int32 | Double | Long | Decimal128 {
    const n = this.rng.int(0, 200);
    switch (this.rng.int(0, 5)) {
      case 0:
        return new Double(n);
      case 1:
        return Long.fromNumber(n);
      case 2:
        return Decimal128.fromString(`${n}.00`);
      case 3:
        return this.nasty() ? this.double() : new Double(n + 0.5);
      default:
        return this.int32(0, 200);
    }
  }

  date(): Date {
    if (!this.nasty())
      return new Date(Date.UTC(2012, 0, 1) + this.rng.int(0, 18 * 365) * DAY_MS + this.rng.int(0, DAY_MS));
    const inside = [
      PG_TIMESTAMPTZ_MIN_MS,
      PG_TIMESTAMPTZ_MIN_MS + 1,
      JS_DATE_LIMIT_MS,
      JS_DATE_LIMIT_MS - 1,
      -62_167_219_200_000, // 0000-01-01, year 0 = 1 BC: off-by-one territory for BC formatting
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1),
      0,
      -1,
      2 ** 31 * 1000, // 2038: where 32-bit seconds overflow
    ];
    const outside = [PG_TIMESTAMPTZ_MIN_MS - 1, PG_TIMESTAMPTZ_MIN_MS - DAY_MS, -JS_DATE_LIMIT_MS];
    const pool = this.knobs.unloadable && this.rng.chance(0.3) ? outside : inside;
    return new Date(Math.round(this.rng.pick(pool)));
  }

  /** An ObjectId created between 2012 and 2030, or at the edges of its 32-bit time. */
  objectId(): ObjectId {
    const bytes = this.rng.bytes(12);
    const seconds = this.nasty()
      ? this.rng.pick([0, 1, 0x7fffffff, 0xffffffff])
      : 1_325_376_000 + this.rng.int(0, 18 * 365 * 86_400);
    new DataView(bytes.buffer).setUint32(0, seconds);
    return new ObjectId(bytes);
  }

  binary(): Binary {
    const subtype = this.rng.pick([0, 0, 4, 5, 0x80]);
    const length =
      subtype === 4 || subtype === 5 ? 16 : this.nasty() ? this.rng.pick([0, 1, 4096]) : this.rng.int(1, 48);
    return new Binary(this.rng.bytes(length), subtype);
  }

  regex(): BSONRegExp {
    const pattern = this.rng.pick(['^a.*b$', '[\\d]+', 'a\\.b', '', 'ü+', '(foo|bar)$', '\\$[a-z]+']);
    const flags = ['', 'i', 'm', 'im', 'imsx', 'u'];
    return new BSONRegExp(pattern, this.rng.pick(flags));
  }

  timestamp(): Timestamp {
    if (this.nasty())
      return new Timestamp({ t: this.rng.pick([0, 0xffffffff]), i: this.rng.pick([0, 1, 0xffffffff]) });
    return new Timestamp({ t: 1_600_000_000 + this.rng.int(0, 1e8), i: this.rng.int(1, 20) });
  }

  /** Any scalar BSON type, including the rare ones (MinKey, MaxKey, Code). */
  scalar(): unknown {
    switch (this.rng.int(0, 17)) {
      case 0:
        return null;
      case 1:
        return this.rng.chance(0.5);
      case 2:
        return this.int32();
      case 3:
        return this.double();
      case 4:
        return this.long();
      case 5:
        return this.decimal();
      case 6:
        return this.date();
      case 7:
        return this.objectId();
      case 8:
        return this.binary();
      case 9:
        return this.regex();
      case 10:
        return this.timestamp();
      case 11:
        return this.rng.pick([new MinKey(), new MaxKey()]);
      case 12:
        return this.rng.chance(0.5)
          ? new Code('function () { return 1; }')
          : new Code('x + y', { x: new Int32(1) });
      default:
        return this.string(() => `value ${this.rng.int(0, 1e6)}`);
    }
  }

  /** Any value: a scalar, or an array or sub-document of any values, down to `depth` levels. */
  any(depth = 3): unknown {
    const roll = depth <= 0 ? 0 : this.rng.int(0, 5);
    if (roll === 4) return Array.from({ length: this.rng.int(0, 4) }, () => this.any(depth - 1));
    if (roll === 5) {
      const doc: Document = {};
      const n = this.rng.int(0, 4);
      for (let i = 0; i < n; i++) doc[this.key(`k${i}`)] = this.any(depth - 1);
      return doc;
    }
    return this.scalar();
  }

  /** A chain of nested sub-documents (and the odd array) at least 8 levels deep. */
  deep(): Document {
    const levels = this.rng.int(8, Math.max(8, this.knobs.maxDepth));
    let node: unknown = { leaf: this.scalar(), depth: new Int32(levels) };
    for (let level = levels - 1; level >= 0; level--) {
      const key = this.key(`level${level}`);
      node = this.rng.chance(0.15) ? { [key]: [node] } : { [key]: node, n: new Int32(level) };
    }
    return node as Document;
  }
}
