import path from 'node:path';
import { BSON, type Document, Double, EJSON, Long } from 'bson';
import { z } from 'zod';
import { collectionFileName } from '../sources/dump/write-dump-directory.js';
import { parseJsonPointer } from '../sources/json/json-pointer.js';

/**
 * The shapes `ferry export` writes, each one a shape a Ferry source (and MongoDB's own
 * tools) reads back:
 * - `archive`: one `mongodump --archive` file (`mongorestore --archive` reads it);
 * - `dump`: a `mongodump` directory, `<to>/<db>/<collection>.bson` + `.metadata.json`;
 * - `ejson`: canonical Extended JSON, one document per line, `<to>/<collection>.json`
 *   (what `mongoexport` writes);
 * - `json`: a JSON array per collection, `<to>/<collection>.json`, relaxed (natural numbers,
 *   strings and objects), laid out as the config's `json.pointer`/`idField` say, so a
 *   team that moved off JSON files gets its files back in their shape.
 *
 * @example
 * const format: ExportFormat = 'archive';
 */
export type ExportFormat = 'archive' | 'dump' | 'ejson' | 'json';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['archive', 'dump', 'ejson', 'json'];

/**
 * What identifies how an export was written, recorded alike in its journal (so `--resume`
 * refuses other options) and in its manifest.
 */
export const exportIdentityFields = {
  format: z.enum(EXPORT_FORMATS as [ExportFormat, ...ExportFormat[]]),
  gzip: z.boolean(),
  /** The database name in an archive's or dump's namespaces. */
  db: z.string(),
  /** The target schema the documents were rebuilt from. */
  schema: z.string(),
};

/**
 * Where plain JSON records go and which field holds the id (the JSON source's settings).
 *
 * @example
 * const layout: JsonLayout = { pointer: '/data/users', idField: 'id' };  // {"data":{"users":[{"id":…}]}}
 */
export interface JsonLayout {
  readonly pointer?: string;
  readonly idField?: string;
}

/**
 * How one format lays out a collection's file: what opens it, how each document is
 * encoded (its position in the collection decides separators), and what closes it. The
 * archive's framing (namespace headers and checksums around blocks) is the exporter's,
 * since one archive file holds every collection.
 */
export interface CollectionFileLayout {
  readonly file: string;
  opening(): Uint8Array;
  encode(doc: Document, position: number): Uint8Array;
  closing(): Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * The file layout of one collection in a per-collection format (not `archive`).
 *
 * @example
 * const layout = collectionLayout('ejson', 'out', 'users', { db: 'shop', gzip: false });
 * layout.file;                                   // 'out/users.json'
 * layout.encode({ _id: 1 }, 0).toString();        // '{"_id":{"$numberInt":"1"}}\n'
 */
export function collectionLayout(
  format: Exclude<ExportFormat, 'archive'>,
  to: string,
  collection: string,
  options: { db: string; gzip: boolean; json?: JsonLayout },
): CollectionFileLayout {
  const gz = options.gzip ? '.gz' : '';
  const stem = collectionFileName(collection);
  switch (format) {
    case 'dump':
      return {
        file: path.join(to, options.db, `${stem}.bson${gz}`),
        opening: () => EMPTY,
        encode: (doc) => BSON.serialize(doc),
        closing: () => EMPTY,
      };
    case 'ejson':
      return {
        file: path.join(to, `${stem}.json${gz}`),
        opening: () => EMPTY,
        encode: (doc) => Buffer.from(`${EJSON.stringify(doc, { relaxed: false })}\n`),
        closing: () => EMPTY,
      };
    case 'json':
      return plainJsonLayout(path.join(to, `${stem}.json${gz}`), options.json ?? {});
  }
}

/** The file a per-collection format writes a collection's metadata (indexes) to, if any. */
export function metadataFile(
  format: ExportFormat,
  to: string,
  collection: string,
  db: string,
  gzip: boolean,
) {
  return format === 'dump'
    ? path.join(to, db, `${collectionFileName(collection)}.metadata.json${gzip ? '.gz' : ''}`)
    : undefined;
}

function plainJsonLayout(file: string, layout: JsonLayout): CollectionFileLayout {
  // `/data/users` wraps the array as {"data":{"users":[…]}}, which the JSON source's
  // pointer finds again.
  const tokens = layout.pointer === undefined ? [] : parseJsonPointer(layout.pointer);
  const open = tokens.map((t) => `{${JSON.stringify(t)}:`).join('');
  const close = '}'.repeat(tokens.length);
  const idField = layout.idField;
  return {
    file,
    opening: () => Buffer.from(`${open}[\n`),
    encode: (doc, position) => {
      const record = idField === undefined ? doc : withIdAs(doc, idField);
      const text = EJSON.stringify(typeKeeping(record), { relaxed: true });
      return Buffer.from(position === 0 ? text : `,\n${text}`);
    },
    closing: () => Buffer.from(`\n]${close}\n`),
  };
}

/**
 * Relaxed Extended JSON writes `Double(5)` as `5` and `Long(7)` as `7`, which read back as
 * Int32: another BSON type, which a typed column of the mapping refuses. Those values keep
 * their canonical wrapper; every other value stays natural JSON, so data that came from
 * plain JSON files goes back as plain JSON.
 */
function typeKeeping(value: unknown): unknown {
  if (value instanceof Double) {
    const n = value.value;
    return Number.isInteger(n) || !Number.isFinite(n) ? EJSON.serialize(value, { relaxed: false }) : value;
  }
  if (value instanceof Long) return EJSON.serialize(value, { relaxed: false });
  if (Array.isArray(value)) return value.map(typeKeeping);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = typeKeeping(item);
    return out;
  }
  return value;
}

/** The JSON source moves `idField` to `_id` on the way in; the way out moves it back. */
function withIdAs(doc: Document, idField: string): Document {
  const { _id, ...rest } = doc;
  return { [idField]: _id, ...rest };
}
