import { type Document, EJSON } from 'bson';
import { type ErrorLocation, FerryError } from '../../core/errors.js';
import type { IndexSpec } from '../types.js';
import { indexFromMongo, indexToMongo } from './index-spec.js';

/** What Ferry uses from a collection's mongodump metadata (`<coll>.metadata.json`, or the string in an archive). */
export interface DumpMetadata {
  readonly indexes: readonly IndexSpec[];
  /** The real collection name; mongodump shortens or escapes file names but not this. */
  readonly collectionName?: string;
  /** `collection`, `view` or `timeseries`. */
  readonly type?: string;
  /** Collection options (capped, validator, collation, …), kept verbatim. */
  readonly options?: Document;
}

/**
 * Parse mongodump's collection metadata: canonical Extended JSON with `indexes`, `options`,
 * `collectionName`, `type` and `uuid`. Broken JSON is an input error naming the file, since
 * guessing the indexes would silently lose a unique constraint.
 *
 * @example
 * parseDumpMetadata('{"indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}]}',
 *   { file: 'dump/shop/orders.metadata.json' }).indexes[0]?.key; // { _id: 1 }
 */
export function parseDumpMetadata(text: string, where: ErrorLocation): DumpMetadata {
  let parsed: unknown;
  try {
    parsed = EJSON.parse(text, { relaxed: false });
  } catch (cause) {
    throw badMetadata(`is not valid Extended JSON (${(cause as Error).message})`, where, cause);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badMetadata('is not a JSON object', where);
  }
  const meta = parsed as Document;
  const rawIndexes: unknown = meta.indexes ?? [];
  if (!Array.isArray(rawIndexes)) throw badMetadata('has an `indexes` field that is not an array', where);
  const indexes = rawIndexes.map((raw: unknown, i) => {
    const spec = raw !== null && typeof raw === 'object' ? indexFromMongo(raw as Document) : undefined;
    if (!spec) throw badMetadata(`has an index (#${i}) without a name or key`, where);
    return spec;
  });
  return {
    indexes,
    ...(typeof meta.collectionName === 'string' && { collectionName: meta.collectionName }),
    ...(typeof meta.type === 'string' && { type: meta.type }),
    ...(meta.options !== null && typeof meta.options === 'object' && { options: meta.options as Document }),
  };
}

/**
 * The metadata text our writers put next to (or inside) a dump, in mongodump's shape.
 *
 * @example
 * formatDumpMetadata({ collectionName: 'orders', indexes: [{ name: '_id_', key: { _id: 1 } }] });
 */
export function formatDumpMetadata(meta: DumpMetadata): string {
  return EJSON.stringify(
    {
      indexes: meta.indexes.map(indexToMongo),
      ...(meta.options !== undefined && { options: meta.options }),
      ...(meta.collectionName !== undefined && { collectionName: meta.collectionName }),
      type: meta.type ?? 'collection',
    },
    { relaxed: false },
  );
}

function badMetadata(detail: string, where: ErrorLocation, cause?: unknown): FerryError {
  return new FerryError(`collection metadata ${detail}`, {
    code: 'SOURCE_BAD_METADATA',
    category: 'input',
    where,
    ...(cause !== undefined && { cause }),
    hint: 'the metadata file is damaged; re-create the dump, or fix the JSON by hand',
  });
}
