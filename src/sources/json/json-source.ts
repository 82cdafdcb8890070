import { stat } from 'node:fs/promises';
import type { Document } from 'bson';
import { FerryError } from '../../core/errors.js';
import { collectionNameOf, findCollectionFiles } from '../ejson/collection-files.js';
import { layoutOf, readHead } from '../ejson/read-head.js';
import { DEFAULT_MAX_RECORD_BYTES } from '../ejson/record-to-document.js';
import { readAllSequential } from '../read-all-sequential.js';
import type { CollectionInfo, ReadOptions, Source, SourceBatch, SourceReject } from '../types.js';
import { parseJsonPointer, resolveJsonPointer } from './json-pointer.js';
import { arrayHasIds, readPlainArray } from './plain-array-stream.js';
import {
  DEFAULT_MAX_JSON_FILE_BYTES,
  loadPlainJson,
  type PlainCollection,
  plainCollections,
} from './plain-json-file.js';
import { listPlainRecords, type PlainIdRule, plainRecordsToDocs } from './plain-records.js';

export interface JsonSourceOptions extends PlainIdRule {
  /**
   * Longest record of a streamed top-level array read whole, in bytes of text; longer ones
   * are rejected as \`SOURCE_DOC_TOO_LARGE\`. Default 64 MiB.
   */
  readonly maxRecordBytes?: number;
  /**
   * RFC 6901 pointer to the records inside each file (`/data/users`); the collection is
   * named after its last token. Without it the layout is detected (see `plainCollections`).
   */
  readonly pointer?: string;
  /** Largest file read whole into memory (any layout but a top-level array). Default 512 MiB. */
  readonly maxFileBytes?: number;
}

/**
 * Open plain JSON files as a source, for apps that kept their data in JSON files: a file
 * holding an array of records, a map of records, or an object of such arrays and maps
 * (`{"users": {"u1": {…}}, "orders": […]}`), or a folder of such files. Ids follow the rule
 * documented on `plainRecordsToDocs`. A file that is one top-level array (without a pointer
 * elsewhere) is streamed record by record (`readPlainArray`), in bounded memory; other layouts
 * are parsed whole (see `loadPlainJson`), and their resume position's `index` (records already
 * read, in file order) is what counts, with `offset` 0.
 *
 * @example
 * const source = await openJsonSource('data/db.json', { idField: 'id' });
 * await source.listCollections(); // [{ name: 'orders', … }, { name: 'users', … }]
 */
export async function openJsonSource(location: string, options: JsonSourceOptions = {}): Promise<Source> {
  const files = await findCollectionFiles(location);
  if (options.pointer !== undefined) parseJsonPointer(options.pointer); // fail early on a bad pointer
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_JSON_FILE_BYTES;
  const collections: PlainCollection[] = [];
  for (const { file } of files) {
    const wholeFile = !isStreamable(options.pointer) || layoutOf(await readHead(file, 64 * 1024)) !== 'array';
    if (wholeFile)
      collections.push(...plainCollections(await loadPlainJson(file, maxBytes), file, options.pointer));
    else collections.push({ name: collectionNameOf(file), file, pointer: '', streamed: true });
  }
  collections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < collections.length; i++) {
    const [previous, current] = [collections[i - 1], collections[i]];
    if (previous && current && previous.name === current.name) {
      throw new FerryError(
        `two places hold collection "${current.name}": ${previous.file} and ${current.file}`,
        {
          code: 'SOURCE_DUPLICATE_COLLECTION',
          category: 'input',
          where: { file: current.file, collection: current.name, path: current.pointer },
          hint: 'rename one of the files or keys, or read the files one at a time',
        },
      );
    }
  }
  return new JsonSource(location, collections, options, {
    maxFileBytes: maxBytes,
    maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
  });
}

/** Only a file that is itself the array of records can be streamed: no pointer, or "". */
function isStreamable(pointer: string | undefined): boolean {
  return pointer === undefined || pointer === '';
}

class JsonSource implements Source {
  readonly kind = 'json' as const;

  constructor(
    readonly location: string,
    private readonly collections: readonly PlainCollection[],
    private readonly rule: PlainIdRule,
    private readonly limits: { readonly maxFileBytes: number; readonly maxRecordBytes: number },
  ) {}

  /** Per streamed file version: whether any record has an id (see `arrayHasIds`). */
  private readonly hasIds = new Map<string, boolean>();

  async listCollections(): Promise<readonly CollectionInfo[]> {
    return this.collections.map((c) => ({ name: c.name, indexes: [] }));
  }

  async countDocuments(collection: string): Promise<number> {
    let count = 0;
    for await (const batch of this.read(collection, { batchSize: 100_000 })) count += batch.docs.length;
    return count;
  }

  async *read(collection: string, options: ReadOptions = {}): AsyncGenerator<SourceBatch> {
    const target = this.find(collection);
    const batchSize = Math.max(1, options.batchSize ?? 1000);
    const startIndex = options.after?.kind === 'offset' ? options.after.index : 0;
    if (options.after !== undefined && options.after.kind !== 'offset') {
      throw new FerryError('a plain JSON file resumes from a record index, not an _id', {
        code: 'SOURCE_BAD_RESUME_POSITION',
        category: 'usage',
        where: { file: target.file, collection },
      });
    }
    if (target.streamed === true) {
      const file = { file: target.file, collection, maxRecordBytes: this.limits.maxRecordBytes };
      const someHaveIds = await arrayHasIds(file, this.rule, this.hasIds);
      yield* readPlainArray(file, this.rule, someHaveIds, options);
      return;
    }
    const root = await loadPlainJson(target.file, this.limits.maxFileBytes);
    const fileBytes = (await stat(target.file)).size;
    const container = resolveJsonPointer(root, parseJsonPointer(target.pointer));
    const records = listPlainRecords(container, target.pointer);
    // The id rule looks at the whole array (do other records have ids?), so convert all,
    // then hand out batches from the resume index on.
    const results = plainRecordsToDocs(records, this.rule, { file: target.file, collection });
    for (let from = startIndex; from < results.length; from += batchSize) {
      options.signal?.throwIfAborted();
      const slice = results.slice(from, from + batchSize);
      const docs: Document[] = [];
      const rejects: SourceReject[] = [];
      for (const r of slice) {
        if ('doc' in r) docs.push(r.doc);
        else rejects.push(r.reject);
      }
      const index = from + slice.length;
      // Bytes are apportioned by record count: the file was parsed whole, not record by record.
      const bytes =
        Math.round((fileBytes * index) / results.length) - Math.round((fileBytes * from) / results.length);
      yield { collection, docs, rejects, position: { kind: 'offset', offset: 0, index }, bytes };
    }
  }

  async *readAll(
    options: ReadOptions & { readonly only?: readonly string[] } = {},
  ): AsyncGenerator<SourceBatch> {
    for (const name of options.only ?? []) this.find(name);
    yield* readAllSequential(
      this,
      this.collections.map((c) => c.name),
      options,
      this.location,
    );
  }

  async close(): Promise<void> {
    // Nothing is held open between reads.
  }

  private find(collection: string): PlainCollection {
    const found = this.collections.find((c) => c.name === collection);
    if (found) return found;
    throw new FerryError(`no collection "${collection}" in ${this.location}`, {
      code: 'SOURCE_UNKNOWN_COLLECTION',
      category: 'usage',
      where: { file: this.location, collection },
      hint: `known collections: ${this.collections.map((c) => c.name).join(', ') || '(none)'}`,
    });
  }
}
