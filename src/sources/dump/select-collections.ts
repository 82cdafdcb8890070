import { FerryError } from '../../core/errors.js';
import type { ReadOptions, ResumePosition } from '../types.js';

/**
 * `readAll` options of the file sources. `resume` is an extension of the `Source` contract:
 * a single `after` cannot say where each of several collections stopped, so a caller that
 * checkpoints per collection passes one position per collection name here.
 *
 * @example
 * declare const source: { readAll(options: FileReadAllOptions): AsyncIterable<SourceBatch> }; // a dump or archive
 * source.readAll({ resume: { orders: { kind: 'offset', offset: 8192, index: 100 } } });
 */
export interface FileReadAllOptions extends ReadOptions {
  readonly only?: readonly string[];
  readonly resume?: Readonly<Record<string, ResumePosition>>;
}

/**
 * The collection named `name`, or a usage error listing what exists.
 *
 * @example
 * declare const collections: readonly CollectionInfo[];
 * const orders = requireCollection(collections, 'orders', 'dump/');
 */
export function requireCollection<T extends { readonly name: string }>(
  all: readonly T[],
  name: string,
  location: string,
): T {
  const found = all.find((c) => c.name === name);
  if (found) return found;
  const known = all.map((c) => c.name).join(', ') || 'none';
  throw new FerryError(`no collection ${name} in ${location}`, {
    code: 'SOURCE_UNKNOWN_COLLECTION',
    category: 'usage',
    where: { file: location, collection: name },
    hint: `collections there: ${known}`,
  });
}

/**
 * The collections a `readAll` covers (all, or those in `only`, in source order) and where each
 * resumes. A plain `after` is accepted only when it can mean one collection.
 *
 * @example
 * declare const collections: readonly { readonly name: string }[];
 * declare const options: FileReadAllOptions;
 * for (const { item, after } of planReadAll(collections, options, 'dump/')) console.log(item.name, after);
 */
export function planReadAll<T extends { readonly name: string }>(
  all: readonly T[],
  options: FileReadAllOptions | undefined,
  location: string,
): { item: T; after: ResumePosition | undefined }[] {
  const only = options?.only;
  if (only) for (const name of only) requireCollection(all, name, location);
  const chosen = only ? all.filter((c) => only.includes(c.name)) : [...all];
  if (options?.after !== undefined && chosen.length !== 1) {
    throw new FerryError('one resume position cannot continue several collections', {
      code: 'SOURCE_BAD_RESUME_POSITION',
      category: 'usage',
      where: { file: location },
      hint: 'pass `only` with the one collection it came from, or `resume` with a position per collection',
    });
  }
  return chosen.map((item) => ({ item, after: options?.resume?.[item.name] ?? options?.after }));
}
