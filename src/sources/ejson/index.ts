/**
 * Public surface of the Extended JSON (mongoexport) source, for `src/index.ts` to re-export.
 *
 * @example
 * import { openEjsonSource, parseExtendedJson } from 'ferry';
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
