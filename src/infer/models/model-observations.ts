import type { Document } from 'bson';
import type { Source, SourceBatch } from '../../sources/types.js';
import { formatPath } from '../field-path.js';
import type { ModelSchemas } from './model-schema.js';

/**
 * The values the statistics do not keep but the models' claims need: for every path with an
 * `enum` (or naming a `refPath` kind), which values the source actually holds. Gathered in the
 * same read as the statistics, by watching the batches go by, so `--models` costs no second
 * pass over the source.
 */

/** Distinct values kept per watched path; beyond it the path only counts how many it saw. */
const MAX_DISTINCT = 256;

/**
 * What was seen at one watched path.
 *
 * @example
 * declare const observer: ModelObserver;
 * const seen: ObservedValues | undefined = observer.values('users', ['status']);
 * seen?.distinct.get('s:active'); // how many users are active
 */
export interface ObservedValues {
  /** Distinct string and number values, as text (at most 256). */
  readonly distinct: ReadonlyMap<string, number>;
  /** True when more distinct values were seen than kept. */
  readonly overflow: boolean;
  /** Values of other types (objects, booleans, ObjectIds, …): never in a list of allowed values. */
  readonly other: number;
}

/**
 * Watches `collection → dotted path` pairs while a source is read.
 *
 * @example
 * declare const source: Source;
 * declare const models: ModelSchemas;
 * const observer = ModelObserver.forModels(models);
 * await collectStats(observer.watch(source));
 * observer.values('ledger', ['entryType'])?.distinct; // Map { 'deposit' => 40, … }
 */
export class ModelObserver {
  readonly #watched = new Map<string, Map<string, { path: readonly string[]; seen: MutableValues }>>();

  /** Watch every path with an `enum` and every `refPath` kind path of the models. */
  static forModels(models: ModelSchemas): ModelObserver {
    const observer = new ModelObserver();
    for (const model of models.models)
      for (const field of model.fields) {
        if (field.enum)
          observer.add(model.collection, field.type === 'Array' ? [...field.path, '[]'] : field.path);
        if (field.refPath) observer.add(model.collection, field.refPath);
      }
    return observer;
  }

  add(collection: string, path: readonly string[]): void {
    const paths = this.#watched.get(collection) ?? new Map();
    paths.set(formatPath(path), { path, seen: { distinct: new Map(), overflow: false, other: 0 } });
    this.#watched.set(collection, paths);
  }

  /** What was seen at a watched path (undefined when it is not watched). */
  values(collection: string, path: readonly string[]): ObservedValues | undefined {
    return this.#watched.get(collection)?.get(formatPath(path))?.seen;
  }

  /** The source, with every batch it yields also looked at here. */
  watch(source: Source): Source {
    const observe = (batches: AsyncIterable<SourceBatch>) => this.#tap(batches);
    return new Proxy(source, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        if (property === 'read' || property === 'readAll')
          return (...args: unknown[]) =>
            observe((value as (...a: unknown[]) => AsyncIterable<SourceBatch>).apply(target, args));
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  /**
   * Look at documents of a collection (what `watch` does with every batch).
   *
   * @example
   * const observer = new ModelObserver();
   * observer.add('users', ['status']);
   * observer.observe('users', [{ _id: 1, status: 'active' }]);
   */
  observe(collection: string, docs: readonly Document[]): void {
    const paths = this.#watched.get(collection);
    if (paths) for (const doc of docs) for (const { path, seen } of paths.values()) visit(doc, path, 0, seen);
  }

  async *#tap(batches: AsyncIterable<SourceBatch>): AsyncIterable<SourceBatch> {
    for await (const batch of batches) {
      this.observe(batch.collection, batch.docs);
      yield batch;
    }
  }
}

interface MutableValues {
  distinct: Map<string, number>;
  overflow: boolean;
  other: number;
}

function visit(value: unknown, path: readonly string[], at: number, seen: MutableValues): void {
  if (value === undefined || value === null) return;
  if (at === path.length) {
    record(value, seen);
    return;
  }
  const segment = path[at]!;
  if (segment === '[]') {
    if (Array.isArray(value)) for (const element of value) visit(element, path, at + 1, seen);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return;
  visit((value as Document)[segment], path, at + 1, seen);
}

function record(value: unknown, seen: MutableValues): void {
  const text = valueKey(value);
  if (text === undefined) {
    seen.other++;
    return;
  }
  const count = seen.distinct.get(text);
  if (count !== undefined) seen.distinct.set(text, count + 1);
  else if (seen.distinct.size < MAX_DISTINCT) seen.distinct.set(text, 1);
  else seen.overflow = true;
}

/**
 * The key of an allowed value: `s:` + a string, `n:` + a number's decimal text (plain or
 * BSON-wrapped), so the string '1' and the number 1 stay apart as they do in MongoDB.
 *
 * @example
 * import { Int32 } from 'bson';
 * valueKey('open'); // 's:open'
 * valueKey(new Int32(2)); // 'n:2'
 */
export function valueKey(value: unknown): string | undefined {
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'number') return `n:${value}`;
  if (typeof value === 'object' && value !== null && '_bsontype' in value) {
    const type = (value as { _bsontype: string })._bsontype;
    if (type === 'Int32' || type === 'Double') return `n:${Number(value.valueOf())}`;
    if (type === 'Long' || type === 'Decimal128') return `n:${String(value)}`;
  }
  return undefined;
}
