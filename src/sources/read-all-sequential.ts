import { FerryError } from '../core/errors.js';
import type { ReadOptions, SourceBatch } from './types.js';

/**
 * `readAll` for sources whose collections live in separate files: read the selected
 * collections one after another. A file position means nothing without its file, so a
 * resume (`after`) must name exactly one collection.
 *
 * @example
 * declare const source: Source;
 * for await (const batch of readAllSequential(source, ['orders', 'users'], {}, 'dump/shop'))
 *   console.log(batch.collection, batch.docs.length);
 */
export async function* readAllSequential(
  source: { read(collection: string, options?: ReadOptions): AsyncIterable<SourceBatch> },
  names: readonly string[],
  options: ReadOptions & { readonly only?: readonly string[] },
  location: string,
): AsyncGenerator<SourceBatch> {
  const selected = names.filter((name) => !options.only || options.only.includes(name));
  if (options.after && selected.length !== 1) {
    throw new FerryError('readAll can resume only one collection at a time', {
      code: 'SOURCE_RESUME_NEEDS_COLLECTION',
      category: 'usage',
      where: { file: location },
      hint: 'pass `only: [collection]` with `after`, or call read(collection, { after })',
    });
  }
  for (const name of selected) yield* source.read(name, options);
}
