/**
 * Public surface of the plain JSON file source, for `src/index.ts` to re-export.
 *
 * @example
 * import { detectJsonFlavour, openJsonSource } from 'ferry';
 */
export {
  detectJsonFlavour,
  type FlavourVerdict,
  flavourOfText,
  type JsonFlavour,
} from './detect-json-flavour.js';
export { formatJsonPointer, parseJsonPointer, resolveJsonPointer } from './json-pointer.js';
export { type JsonSourceOptions, openJsonSource } from './json-source.js';
