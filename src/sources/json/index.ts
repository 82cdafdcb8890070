/**
 * Surface of the plain JSON file source. `src/index.ts` does not re-export it: the package
 * opens such files through `openSource`.
 *
 * @example
 * const verdict = await detectJsonFlavour('data/');
 * const source = await openJsonSource('data/');
 */
export {
  detectJsonFlavour,
  type FlavourVerdict,
  flavourOfText,
  type JsonFlavour,
} from './detect-json-flavour.js';
export { formatJsonPointer, parseJsonPointer, resolveJsonPointer } from './json-pointer.js';
export { type JsonSourceOptions, openJsonSource } from './json-source.js';
