import { type CollectionPlan, quoteIdent, type SourceIndexPlan, type TablePlan } from '../mapping/model.js';
import { pgIdentifier, snakeCase } from '../mapping/names.js';
import { resolveField } from './field-resolution.js';
import { translateFilter } from './partial-filter.js';
import type { IndexDef, IndexKey, SchemaWarning, TtlRule } from './schema-model.js';
import { quoteLiteral } from './sql-text.js';

/** What a collection's MongoDB indexes become. */
export interface TranslatedIndexes {
  readonly indexes: readonly IndexDef[];
  readonly ttl: readonly TtlRule[];
  readonly warnings: readonly SchemaWarning[];
}

/** Picks a schema-unique index name; injected so names stay unique across collections. */
export type NameIndex = (base: string) => string;

/** MongoDB text languages with a PostgreSQL text search configuration of the same meaning. */
const TEXT_LANGUAGES: Readonly<Record<string, string>> = {
  none: 'simple',
  danish: 'danish',
  dutch: 'dutch',
  english: 'english',
  finnish: 'finnish',
  french: 'french',
  german: 'german',
  hungarian: 'hungarian',
  italian: 'italian',
  norwegian: 'norwegian',
  portuguese: 'portuguese',
  romanian: 'romanian',
  russian: 'russian',
  spanish: 'spanish',
  swedish: 'swedish',
  turkish: 'turkish',
};
const SHORT_LANGUAGES: Readonly<Record<string, string>> = {
  da: 'danish',
  nl: 'dutch',
  en: 'english',
  fi: 'finnish',
  fr: 'french',
  de: 'german',
  hu: 'hungarian',
  it: 'italian',
  nb: 'norwegian',
  pt: 'portuguese',
  ro: 'romanian',
  ru: 'russian',
  es: 'spanish',
  sv: 'swedish',
  tr: 'turkish',
};
/** PostgreSQL has four text search weights; MongoDB weights map onto them by rank. */
const PG_WEIGHTS = ['A', 'B', 'C', 'D'] as const;
/** Options that only tune MongoDB's storage or were handled above; nothing to translate. */
const NEUTRAL_OPTIONS = new Set([
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  'background',
  '2dsphereIndexVersion',
  'hidden',
  'v',
  'ns',
]);

/**
 * Translate one collection's MongoDB indexes into PostgreSQL indexes on its root table:
 * - `_id_` is the primary key already;
 * - single-field and compound indexes become btree indexes on the mapped columns, with
 *   their directions and `unique`; a single-field index on an array column (multikey) is GIN;
 * - `partialFilterExpression` becomes `WHERE` (see partial-filter.ts);
 * - `sparse` becomes `WHERE col IS NOT NULL` (`or` across a compound key: MongoDB indexes a
 *   document that has at least one of the fields);
 * - TTL becomes a cleanup rule plus an index on its column;
 * - text becomes a GIN index over `to_tsvector` in the index's language, with weights;
 * - everything else (`2dsphere`, `2d`, `hashed`, wildcard, fields in child tables or in
 *   `_extra`) becomes a named warning, never a silent omission.
 *
 * @example
 * declare const users: CollectionPlan;
 * translateIndexes(users, (base) => base).indexes[0];
 * // { name: 'users_email_1', table: 'users', method: 'btree', unique: true,
 * //   keys: [{ kind: 'column', column: 'email', descending: false }], source: 'email_1' }
 */
export function translateIndexes(collection: CollectionPlan, nameIndex: NameIndex): TranslatedIndexes {
  const root = collection.tables[0] as TablePlan;
  const indexes: IndexDef[] = [];
  const ttl: TtlRule[] = [];
  const warnings: SchemaWarning[] = [];
  const warn = (index: SourceIndexPlan, code: SchemaWarning['code'], message: string) =>
    warnings.push({ collection: collection.name, item: index.name, code, message });

  for (const index of collection.indexes ?? []) {
    const fields = Object.entries(index.key);
    if (index.name === '_id_' || (fields.length === 1 && fields[0]?.[0] === '_id' && fields[0][1] === 1))
      continue;
    for (const option of Object.keys(index.options ?? {})) {
      if (!NEUTRAL_OPTIONS.has(option))
        warn(
          index,
          'INDEX_OPTION_IGNORED',
          `option "${option}" of index ${index.name} has no PostgreSQL translation and is ignored`,
        );
    }
    const special = fields.find(
      ([field, dir]) => field.includes('$**') || (typeof dir === 'string' && dir !== 'text'),
    );
    if (special) {
      const [field, dir] = special;
      const kind = field.includes('$**') ? 'wildcard' : String(dir);
      warn(
        index,
        'INDEX_UNSUPPORTED_KIND',
        `index ${index.name} is a ${kind} index on "${field}"; PostgreSQL has no equivalent, so it is not created (consider a jsonb GIN or PostGIS index by hand)`,
      );
      continue;
    }
    const isText = fields.some(([, dir]) => dir === 'text');
    const name = nameIndex(pgIdentifier(`${root.name}_${snakeCase(index.name)}`));
    const where = indexPredicate(collection, index, warn);
    if (where === null) continue;
    if (isText) {
      const text = textIndex(collection, index, warn);
      if (text === undefined) continue;
      indexes.push({
        name,
        table: root.name,
        method: 'gin',
        keys: [text],
        unique: false,
        ...(where && { where }),
        source: index.name,
      });
      continue;
    }
    const keys: IndexKey[] = [];
    for (const [field, dir] of fields) {
      const location = resolveField(collection, field);
      if (location.kind === 'column') {
        keys.push({ kind: 'column', column: location.column.name, descending: dir === -1 });
        continue;
      }
      warn(
        index,
        location.kind === 'child' ? 'INDEX_FIELD_IN_CHILD_TABLE' : 'INDEX_FIELD_UNMAPPED',
        unmappedMessage(index, field, location),
      );
      break;
    }
    if (keys.length !== fields.length) continue;
    const multikey = multikeyColumn(root, keys, index);
    indexes.push({
      name,
      table: root.name,
      method: multikey ? 'gin' : 'btree',
      keys: multikey ? [{ ...multikey, descending: false }] : keys,
      unique: index.unique === true,
      ...(where && { where }),
      source: index.name,
    });
    if (index.expireAfterSeconds !== undefined) {
      const key = keys[0];
      const column = key?.kind === 'column' ? root.columns.find((c) => c.name === key.column) : undefined;
      if (keys.length !== 1 || column === undefined || !/^timestamptz(\(\d\))?$/.test(column.pgType)) {
        warn(
          index,
          'INDEX_TTL_NOT_A_DATE',
          `TTL index ${index.name} needs one timestamptz column; no cleanup rule is made`,
        );
      } else {
        ttl.push({
          table: root.name,
          column: column.name,
          seconds: index.expireAfterSeconds,
          ...(where && { where }),
          source: index.name,
        });
      }
    }
  }
  return { indexes, ttl, warnings };
}

/**
 * The key of a single-field, non-unique index on a PostgreSQL array column (a MongoDB
 * multikey index such as `participants_1`), which becomes GIN: a btree on a whole array
 * serves no containment query (`participants @> array[$1]`), a GIN index does, which is what
 * the MongoDB index served (`{ participants: id }`). A unique one stays btree: GIN cannot be
 * unique, and MongoDB's per-element uniqueness has no PostgreSQL index at all.
 */
function multikeyColumn(
  root: TablePlan,
  keys: readonly IndexKey[],
  index: SourceIndexPlan,
): Extract<IndexKey, { kind: 'column' }> | undefined {
  const [key] = keys;
  if (keys.length !== 1 || key?.kind !== 'column' || index.unique === true) return undefined;
  if (index.expireAfterSeconds !== undefined) return undefined;
  const column = root.columns.find((c) => c.name === key.column);
  return column?.pgType.endsWith('[]') ? key : undefined;
}

/** `undefined`: no predicate; `null`: the index must not be created (already warned). */
function indexPredicate(
  collection: CollectionPlan,
  index: SourceIndexPlan,
  warn: (index: SourceIndexPlan, code: SchemaWarning['code'], message: string) => void,
): string | undefined | null {
  const parts: string[] = [];
  if (index.partialFilterExpression !== undefined) {
    const filter = translateFilter(collection, index.partialFilterExpression);
    if (!filter.ok) {
      // A unique index without its filter would reject rows MongoDB accepted; a plain index
      // without it is only larger, so that one is still worth creating.
      const action = index.unique ? 'so the unique index is not created' : 'so the index covers every row';
      warn(
        index,
        'INDEX_PARTIAL_FILTER_UNSUPPORTED',
        `partial filter of ${index.name} cannot be translated (${filter.reason}), ${action}`,
      );
      if (index.unique) return null;
    } else {
      parts.push(filter.sql);
    }
  }
  if (index.sparse) {
    const columns = Object.keys(index.key)
      .map((field) => resolveField(collection, field))
      .flatMap((l) => (l.kind === 'column' ? [`${quoteIdent(l.column.name)} is not null`] : []));
    if (columns.length > 0) parts.push(columns.length === 1 ? columns[0]! : `(${columns.join(' or ')})`);
  }
  return parts.length === 0 ? undefined : parts.join(' and ');
}

function textIndex(
  collection: CollectionPlan,
  index: SourceIndexPlan,
  warn: (index: SourceIndexPlan, code: SchemaWarning['code'], message: string) => void,
): IndexKey | undefined {
  const options = index.options ?? {};
  // listIndexes reports a text index as `{ _fts: 'text', _ftsx: 1 }` with the fields in
  // `weights`; a spec written by hand names them in the key. Accept both.
  const declared = Object.entries(index.key).filter(([field, dir]) => dir === 'text' && field !== '_fts');
  const weights = isRecord(options.weights)
    ? options.weights
    : Object.fromEntries(declared.map(([f]) => [f, 1]));
  const prefix = Object.keys(index.key).filter(
    (f) => f !== '_fts' && f !== '_ftsx' && index.key[f] !== 'text',
  );
  if (prefix.length > 0)
    warn(
      index,
      'INDEX_TEXT_OPTION_IGNORED',
      `text index ${index.name} has non-text key fields (${prefix.join(', ')}); the GIN index covers only the text`,
    );
  const rawLanguage = typeof options.default_language === 'string' ? options.default_language : 'english';
  let language = TEXT_LANGUAGES[rawLanguage] ?? TEXT_LANGUAGES[SHORT_LANGUAGES[rawLanguage] ?? ''];
  if (language === undefined) {
    warn(
      index,
      'INDEX_TEXT_OPTION_IGNORED',
      `text index ${index.name}: language "${rawLanguage}" has no PostgreSQL configuration; using "simple"`,
    );
    language = 'simple';
  }
  if (typeof options.language_override === 'string' && options.language_override !== 'language')
    warn(
      index,
      'INDEX_TEXT_OPTION_IGNORED',
      `text index ${index.name}: per-document language ("${options.language_override}") is not translated`,
    );

  const fields: { column: string; weight: number }[] = [];
  for (const [field, weight] of Object.entries(weights)) {
    const location = resolveField(collection, field);
    if (field.includes('$**')) {
      warn(
        index,
        'INDEX_UNSUPPORTED_KIND',
        `text index ${index.name} covers every string field ($**); PostgreSQL has no equivalent, so it is not created`,
      );
      return undefined;
    }
    if (location.kind !== 'column' || location.column.pgType !== 'text') {
      warn(
        index,
        location.kind === 'child' ? 'INDEX_FIELD_IN_CHILD_TABLE' : 'INDEX_FIELD_UNMAPPED',
        `text index ${index.name}: field "${field}" is not a text column of ${(collection.tables[0] as TablePlan).name}, so it is left out`,
      );
      continue;
    }
    fields.push({ column: location.column.name, weight: typeof weight === 'number' ? weight : 1 });
  }
  if (fields.length === 0) return undefined;
  const config = `${quoteLiteral(language)}::regconfig`;
  const ranks = [...new Set(fields.map((f) => f.weight))].sort((a, b) => b - a);
  if (ranks.length === 1) {
    const body = fields.map((f) => `coalesce(${quoteIdent(f.column)}, '')`).join(" || ' ' || ");
    return { kind: 'expression', sql: `to_tsvector(${config}, ${body})` };
  }
  if (ranks.length > PG_WEIGHTS.length)
    warn(
      index,
      'INDEX_TEXT_OPTION_IGNORED',
      `text index ${index.name} has ${ranks.length} distinct weights; PostgreSQL has 4, so the lowest share weight D`,
    );
  const vectors = fields.map((f) => {
    const letter = PG_WEIGHTS[Math.min(ranks.indexOf(f.weight), PG_WEIGHTS.length - 1)];
    return `setweight(to_tsvector(${config}, coalesce(${quoteIdent(f.column)}, '')), '${letter}')`;
  });
  return { kind: 'expression', sql: vectors.join(' || ') };
}

function unmappedMessage(
  index: SourceIndexPlan,
  field: string,
  location: ReturnType<typeof resolveField>,
): string {
  switch (location.kind) {
    case 'child':
      return `index ${index.name}: field "${field}" lives in child table ${location.table}; a multikey index has no exact equivalent, so it is not created (index the child table by hand if needed)`;
    case 'discriminator':
      return `index ${index.name}: field "${field}" is a discriminator (${location.columns.join(', ')}); it is not created`;
    case 'inside-column':
      return `index ${index.name}: field "${field}" is inside jsonb column ${location.column.name}; it is not created`;
    case 'extra':
    case 'column':
      return `index ${index.name}: field "${field}" has no column (it would be in _extra); it is not created`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
