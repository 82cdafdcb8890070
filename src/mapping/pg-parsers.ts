import pg from 'pg';

/**
 * Type parsers that make the `pg` driver return rows in Ferry's row representation
 * (row-values.ts), which is what `toDoc` accepts. The driver's defaults would turn `numeric`
 * and `double precision` into JS numbers (rounding), `timestamptz` into a JS Date in the
 * local zone (no BC years, no ms beyond JS range), `jsonb` into parsed JSON, and `numeric[]`
 * into floats. Ferry keeps all of those as the exact text PostgreSQL printed.
 *
 * Kept as a per-client config, never installed globally with `pg.types.setTypeParser`: the
 * user's application shares the `pg` module, and its parsers are not ours to change.
 */
const TEXT_OIDS = {
  int8: 20,
  json: 114,
  float8: 701,
  timestamptz: 1184,
  numeric: 1700,
  jsonb: 3802,
} as const;

/** Array types whose elements stay as text. */
const TEXT_ARRAY_OIDS = {
  int8: 1016,
  json: 199,
  float8: 1022,
  timestamptz: 1185,
  numeric: 1231,
  jsonb: 3807,
} as const;

const TEXT_ARRAY = 1009;

type Parser = (text: string) => unknown;

const identity: Parser = (text) => text;

/** The overrides, by type OID (text format). Everything else keeps the driver's default. */
export const ferryTypeParsers: ReadonlyMap<number, Parser> = new Map<number, Parser>([
  ...Object.values(TEXT_OIDS).map((oid): [number, Parser] => [oid, identity]),
  ...Object.values(TEXT_ARRAY_OIDS).map((oid): [number, Parser] => [
    oid,
    (pg.types.getTypeParser as (oid: number, format: 'text') => Parser)(TEXT_ARRAY, 'text'),
  ]),
]);

/**
 * The `types` option for a `pg` Client or Pool that reads rows the way `toDoc` expects.
 *
 * @example
 * import pg from 'pg';
 * declare const connectionString: string;
 * declare const plan: Plan;
 * declare const id: string;
 * const client = new pg.Client({ connectionString, types: ferryTypes });
 * const { rows } = await client.query('select * from "orders" where id = $1', [id]);
 * toDoc(plan, 'orders', new Map([['orders', rows]])); // and the rows of its child tables
 */
export const ferryTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      const parser = ferryTypeParsers.get(oid);
      if (parser !== undefined) return parser;
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};
