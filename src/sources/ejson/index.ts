/**
 * Surface of the Extended JSON (mongoexport) source. `src/index.ts` does not re-export it:
 * the package opens such files through `openSource`.
 *
 * @example
 * const source = await openEjsonSource('export/');
 * const doc = parseExtendedJson('{"_id":{"$oid":"59b99db4cfa9a34dcd7885b6"}}');
 */
export { collectionNameOf } from './collection-files.js';
export { type EjsonSourceOptions, openEjsonSource, parseExportLine } from './ejson-source.js';
export {
  type ExtendedJsonParseOptions,
  InvalidDateError,
  jsonNumberToBson,
  parseExtendedJson,
  UnsafeIntegerError,
} from './parse-extended-json.js';
export { MAX_BSON_DOCUMENT_BYTES } from './record-to-document.js';
