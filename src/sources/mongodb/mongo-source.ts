import { type Collection, MongoClient, type MongoClientOptions } from 'mongodb';
import { FerryError } from '../../core/errors.js';
import { redactUri } from '../../core/redact.js';
import { readAhead } from '../read-ahead.js';
import type { CollectionInfo, ReadOptions, Source, SourceBatch } from '../types.js';
import { installDriverWriteGuard } from './driver-write-guard.js';
import { estimatedCount } from './estimated-count.js';
import { normalizeIndex } from './indexes.js';
import { type MongoErrorContext, mongoError } from './mongo-errors.js';
import { readIdOrdered, TypeAliasSupport } from './read-batches.js';
import { type IdRange, splitIdRanges } from './split-ranges.js';
import { type MongoUriParts, parseMongoUri, SYSTEM_DATABASES } from './uri.js';

/**
 * How a live server is reached.
 *
 * @example
 * declare const url: string;
 * await openMongoSource(url, { serverSelectionTimeoutMs: 15_000, driverOptions: { tls: true } });
 */
export interface MongoSourceOptions {
  /** How long to look for a server before failing with SOURCE_UNREACHABLE (default 5000 ms). */
  readonly serverSelectionTimeoutMs?: number;
  /** Extra driver options (TLS files, appName, …). Ferry sets how documents are decoded itself. */
  readonly driverOptions?: MongoClientOptions;
}

/**
 * A live MongoDB server (or a wire-compatible one such as FerretDB) as a {@link Source}.
 *
 * Naming: when the URI names a database (`mongodb://h/shop`) only that database is read and
 * collections are called by their plain name (`orders`). When it names none, every database
 * except `admin`, `local` and `config` is read, and a collection is called
 * `database.collection` (`shop.orders`) in `CollectionInfo.name`, in batches and in every
 * method's `collection` argument. Database names cannot contain '.', so the first '.'
 * always separates the two. `CollectionInfo.database` is set in both cases.
 *
 * @example
 * const source: MongoSource = await openMongoSource('mongodb://localhost:27017/shop');
 */
export interface MongoSource extends Source {
  readonly kind: 'mongodb';
  /** The database the URI names, or undefined when every non-system database is read. */
  readonly database: string | undefined;
  /** Split a collection into at most `n` contiguous, non-overlapping `_id` ranges covering all of it. */
  splitRanges(collection: string, n: number): Promise<readonly IdRange[]>;
  /** Like `read`, limited to one range; `after` (from this range's batches) resumes inside it. */
  readRange(collection: string, range: IdRange, options?: ReadOptions): AsyncIterable<SourceBatch>;
}

const DEFAULT_BATCH_SIZE = 1000;

/**
 * Batches fetched from the server while the consumer loads the previous one: a `getMore` on
 * FerretDB takes seconds, which would otherwise add to every chunk's encode and COPY. One
 * batch, so memory stays within two batches plus the driver's current server reply.
 */
const READ_AHEAD = 1;

/**
 * Connect to a MongoDB server and prove it answers (and accepts the credentials) before
 * returning, so a bad URI fails here with a clear environment error (exit 3).
 *
 * @throws FerryError `SOURCE_BAD_URI` (usage), `SOURCE_UNREACHABLE` (environment, transient),
 *   `SOURCE_AUTH_FAILED` (environment, terminal), `SOURCE_QUERY_FAILED` (environment).
 *
 * @example
 * const source = await openMongoSource('mongodb://localhost:27017/shop');
 * for (const info of await source.listCollections()) {
 *   for await (const batch of source.read(info.name, { batchSize: 500 })) console.log(batch.docs.length);
 * }
 * await source.close();
 */
export async function openMongoSource(uri: string, options: MongoSourceOptions = {}): Promise<MongoSource> {
  const parts = parseMongoUri(uri);
  let client: MongoClient;
  installDriverWriteGuard();
  try {
    client = new MongoClient(uri, {
      ...options.driverOptions,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5000,
    });
  } catch (cause) {
    // The driver's parse errors name the offending option, never the password; FerryError
    // redacts the message anyway.
    throw new FerryError(`invalid MongoDB connection string ${redactUri(uri)}: ${(cause as Error).message}`, {
      code: 'SOURCE_BAD_URI',
      category: 'usage',
      cause,
    });
  }
  const source = new LiveMongoSource(client, parts, redactUri(uri));
  try {
    await client.connect();
    // Listing touches storage and needs the same rights reading does: a ping alone passes on
    // FerretDB with a wrong password, and on MongoDB without any.
    await source.databases();
  } catch (cause) {
    await client.close().catch(() => {});
    throw mongoError(source.errorContext, cause);
  }
  return source;
}

class LiveMongoSource implements MongoSource {
  readonly kind = 'mongodb' as const;
  readonly database: string | undefined;
  readonly errorContext: MongoErrorContext;
  readonly #types = new TypeAliasSupport();
  #closed = false;

  constructor(
    private readonly client: MongoClient,
    parts: MongoUriParts,
    readonly location: string,
  ) {
    this.database = parts.database;
    this.errorContext = {
      hosts: parts.hosts,
      ...(parts.database !== undefined && { database: parts.database }),
      withCredentials: parts.withCredentials,
    };
  }

  /** The databases this source reads, by name. */
  async databases(): Promise<readonly string[]> {
    if (this.database !== undefined) {
      await this.client
        .db(this.database)
        .command({ listCollections: 1, nameOnly: true, authorizedCollections: true });
      return [this.database];
    }
    const { databases } = await this.client
      .db('admin')
      .command({ listDatabases: 1, nameOnly: true, authorizedDatabases: true });
    return (databases as { name: string }[])
      .map((d) => d.name)
      .filter((name) => !SYSTEM_DATABASES.has(name))
      .sort(byCodeUnits);
  }

  async listCollections(): Promise<readonly CollectionInfo[]> {
    return this.guard(undefined, async () => {
      const infos: CollectionInfo[] = [];
      for (const database of await this.databases()) {
        const db = this.client.db(database);
        // `type: 'collection'` leaves out views (no _id order to resume by; they are
        // recomputed from their source collections anyway) and time-series views.
        // Filtered here rather than in the command: a `type` filter is one more feature for a
        // wire-compatible server to get wrong. Not `nameOnly`: FerretDB 1.24 then omits `type`.
        const listed = await db.listCollections({}).toArray();
        for (const { name, type } of listed) {
          if (type !== 'collection' || name.startsWith('system.')) continue;
          const collection = db.collection(name);
          const indexes = (await collection.listIndexes().toArray()).map(normalizeIndex);
          const count = await estimatedCount(collection);
          const qualified = this.database === undefined ? `${database}.${name}` : name;
          infos.push({ name: qualified, database, indexes, estimatedCount: count });
        }
      }
      return infos.sort((a, b) => byCodeUnits(a.name, b.name));
    });
  }

  async countDocuments(collection: string): Promise<number> {
    return this.guard(collection, async () => (await this.resolve(collection)).countDocuments({}));
  }

  read(collection: string, options: ReadOptions = {}): AsyncIterable<SourceBatch> {
    return this.readRange(collection, {}, options);
  }

  async *readRange(
    collection: string,
    range: IdRange,
    options: ReadOptions = {},
  ): AsyncGenerator<SourceBatch> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new FerryError(`batch size must be a positive integer, got ${batchSize}`, {
        code: 'SOURCE_BAD_OPTION',
        category: 'usage',
      });
    }
    if (options.after !== undefined && options.after.kind !== 'id') {
      throw new FerryError('a live MongoDB source resumes by _id, not by file offset', {
        code: 'SOURCE_BAD_RESUME_POSITION',
        category: 'usage',
        where: { collection },
        hint: 'pass the position from a batch this source produced',
      });
    }
    const handle = await this.guard(collection, () => this.resolve(collection));
    // A resume point inside the range replaces the range's start; it is exclusive because that
    // document was already taken.
    const lower =
      options.after !== undefined
        ? { id: options.after.id, inclusive: false }
        : range.from && { id: range.from.id, inclusive: true };
    yield* readAhead(
      readIdOrdered({
        collection: handle,
        name: collection,
        ...(lower && { lower }),
        ...(range.to && { upper: range.to }),
        batchSize,
        ...(options.signal && { signal: options.signal }),
        types: this.#types,
        errorContext: this.errorContext,
        ...(options.raw && { raw: true }),
      }),
      READ_AHEAD,
    );
  }

  async *readAll(
    options: ReadOptions & { readonly only?: readonly string[] } = {},
  ): AsyncGenerator<SourceBatch> {
    if (options.after !== undefined) {
      throw new FerryError('readAll cannot resume: a position belongs to one collection', {
        code: 'SOURCE_BAD_RESUME_POSITION',
        category: 'usage',
        hint: 'resume each collection with read(collection, { after })',
      });
    }
    const names = (await this.listCollections()).map((c) => c.name);
    const wanted = options.only ?? names;
    const unknown = wanted.filter((name) => !names.includes(name));
    if (unknown.length > 0) throw this.notFound(unknown.join(', '));
    const { only: _only, ...readOptions } = options;
    for (const name of names.filter((n) => wanted.includes(n))) yield* this.read(name, readOptions);
  }

  async splitRanges(collection: string, n: number): Promise<readonly IdRange[]> {
    return this.guard(collection, async () => splitIdRanges(await this.resolve(collection), n, this.#types));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.close();
  }

  /** The driver collection behind a user-facing name, which must exist and not be a view. */
  private async resolve(name: string): Promise<Collection> {
    let database = this.database;
    let collection = name;
    if (database === undefined) {
      const dot = name.indexOf('.');
      if (dot <= 0)
        throw this.notFound(name, 'the URI names no database, so collections are named database.collection');
      database = name.slice(0, dot);
      collection = name.slice(dot + 1);
    }
    const db = this.client.db(database);
    const [found] = await db.listCollections({ name: collection }).toArray();
    if (found?.type !== 'collection') throw this.notFound(name);
    return db.collection(collection);
  }

  private notFound(names: string, hint = 'list them with `ferry inspect`'): FerryError {
    const scope = this.database === undefined ? 'any database' : `database ${this.database}`;
    return new FerryError(`no collection ${names} in ${scope} at ${this.errorContext.hosts}`, {
      code: 'SOURCE_UNKNOWN_COLLECTION',
      category: 'usage',
      hint,
    });
  }

  /** Run a driver call and turn whatever it throws into a classified FerryError. */
  private async guard<T>(collection: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (cause) {
      throw mongoError({ ...this.errorContext, ...(collection !== undefined && { collection }) }, cause);
    }
  }
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
