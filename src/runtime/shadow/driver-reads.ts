import type { Document } from 'bson';
import type { Collection, FindCursor } from 'mongodb';
import { FerryError } from '../../core/errors.js';
import type { Runtime } from '../runtime.js';
import { isSubDocument } from './projection.js';
import { type RoutedRead, readFromPostgres, readRoute, shadowRoutedRead } from './read-routing.js';
import type { SortSpec } from './sort-documents.js';

/**
 * The reads of the driver wrapper (collection-wrapper.ts), routed by phase (see `readRoute`):
 * `findOne` and `find`. In the PostgreSQL phases `find` answers with a small cursor over the
 * documents read by `_id`, which has what reading a result takes (`toArray`, `for await`,
 * `next`, `hasNext`, `close`) and the shaping calls `project`, `sort`, `skip` and `limit`.
 */
export const DRIVER_READS: Readonly<
  Record<string, (runtime: Runtime, collection: Collection<Document>, args: unknown[]) => unknown>
> = {
  findOne: (runtime, collection, [filter, options]) => findOne(runtime, collection, filter, options),
  find: (runtime, collection, [filter, options]) => find(runtime, collection, filter, options),
};

interface FindOptionsShape {
  readonly projection?: Document;
  readonly sort?: unknown;
  readonly skip?: number;
  readonly limit?: number;
}

async function findOne(
  runtime: Runtime,
  collection: Collection<Document>,
  filter: unknown,
  options: unknown,
): Promise<unknown> {
  const name = collection.collectionName;
  const route = readRoute(runtime.phase(name));
  const raw = () => collection.findOne((filter ?? {}) as Document, options as never);
  if (route === 'mongo') return raw();
  const read = routedRead(filter, options);
  if (route === 'postgres') return (await readFromPostgres(runtime, name, { ...read, limit: 1 }))[0] ?? null;
  const started = performance.now();
  const answer = await raw();
  shadowRoutedRead(runtime, name, read, answer, performance.now() - started, raw);
  return answer;
}

function find(
  runtime: Runtime,
  collection: Collection<Document>,
  filter: unknown,
  options: unknown,
): unknown {
  const name = collection.collectionName;
  const route = readRoute(runtime.phase(name));
  const cursor = collection.find((filter ?? {}) as Document, options as never);
  if (route === 'mongo') return cursor;
  const read = routedRead(filter, options);
  if (route === 'postgres') return new PostgresCursor(runtime, name, read);
  return shadowedCursor(runtime, collection, cursor, read);
}

/** The filter and options of a driver read, as the routing takes them. */
function routedRead(filter: unknown, options: unknown): RoutedRead {
  const o = (options ?? {}) as FindOptionsShape;
  return {
    filter: (filter ?? {}) as Document,
    ...(o.projection !== undefined && { projection: o.projection }),
    ...(o.sort !== undefined && { sort: sortSpec(o.sort) }),
    ...(o.skip !== undefined && { skip: o.skip }),
    ...(o.limit !== undefined && { limit: o.limit }),
  };
}

/** A sort given as `{ field: 1 | -1 }`; the driver's other spellings are refused. */
function sortSpec(sort: unknown): SortSpec {
  if (isSubDocument(sort)) return sort as SortSpec;
  throw new FerryError('a routed read sorts by something other than a { field: 1 | -1 } document', {
    code: 'SHADOW_UNSUPPORTED_SORT',
    category: 'usage',
    hint: 'give the sort as a document, e.g. { createdAt: -1 }',
  });
}

/**
 * The driver's cursor with `toArray` shadowed: its answer is compared with PostgreSQL's off the
 * request path. The shaping calls are followed so the comparison knows the read's sort and
 * projection; iterating with `next` or `for await` is not shadowed (the answer is never whole).
 */
function shadowedCursor(
  runtime: Runtime,
  collection: Collection<Document>,
  cursor: FindCursor<Document>,
  initial: RoutedRead,
): FindCursor<Document> {
  let read: RoutedRead = initial;
  let shadowable = true;
  const proxy: FindCursor<Document> = new Proxy(cursor, {
    get(target, property) {
      const shaping = SHAPING[property as keyof typeof SHAPING];
      if (shaping !== undefined)
        return (value: unknown) => {
          (target[property as keyof typeof SHAPING] as (v: unknown) => unknown).call(target, value);
          if (shaping === 'sort' && !isSubDocument(value)) shadowable = false;
          else read = { ...read, [shaping]: value };
          return proxy;
        };
      if (property === 'toArray')
        return async () => {
          const started = performance.now();
          const answer = await target.toArray();
          if (shadowable) {
            const { filter, ...options } = read;
            shadowRoutedRead(
              runtime,
              collection.collectionName,
              read,
              answer,
              performance.now() - started,
              () => collection.find(filter, options as never).toArray(),
            );
          }
          return answer;
        };
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return proxy;
}

/** Cursor methods that shape the read, and the field of `RoutedRead` each sets. */
const SHAPING = { project: 'projection', sort: 'sort', skip: 'skip', limit: 'limit' } as const;

/**
 * A read answered from PostgreSQL, as a cursor: the documents are read on the first fetch,
 * after every shaping call.
 */
class PostgresCursor {
  #read: RoutedRead;
  #docs: Document[] | undefined;
  #at = 0;

  constructor(
    private readonly runtime: Runtime,
    private readonly collection: string,
    read: RoutedRead,
  ) {
    this.#read = read;
  }

  project(projection: Document): this {
    this.#read = { ...this.#read, projection };
    return this;
  }

  sort(sort: unknown): this {
    this.#read = { ...this.#read, sort: sortSpec(sort) };
    return this;
  }

  skip(skip: number): this {
    this.#read = { ...this.#read, skip };
    return this;
  }

  limit(limit: number): this {
    this.#read = { ...this.#read, limit };
    return this;
  }

  async toArray(): Promise<Document[]> {
    const docs = await this.#load();
    const rest = docs.slice(this.#at);
    this.#at = docs.length;
    return rest;
  }

  async hasNext(): Promise<boolean> {
    return this.#at < (await this.#load()).length;
  }

  async next(): Promise<Document | null> {
    const docs = await this.#load();
    return docs[this.#at++] ?? null;
  }

  async close(): Promise<void> {
    this.#at = Number.POSITIVE_INFINITY;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Document> {
    for (let doc = await this.next(); doc !== null; doc = await this.next()) yield doc;
  }

  async #load(): Promise<Document[]> {
    this.#docs ??= await readFromPostgres(this.runtime, this.collection, this.#read);
    return this.#docs;
  }
}
