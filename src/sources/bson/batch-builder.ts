import type { Document } from 'bson';
import { FerryError } from '../../core/errors.js';
import type { ReadOptions, ResumePosition, SourceBatch, SourceReject } from '../types.js';
import type { BsonEntry, DecodeContext } from './decode-frame.js';
import type { BsonFrame } from './read-frame.js';

/** How a raw batch reports its undecodable frames back to its source (see `RawDocuments`). */
export interface RawMode {
  readonly context: DecodeContext;
  readonly noteRejects: (count: number) => void;
}

export const DEFAULT_BATCH_SIZE = 1000;

/**
 * Collects one collection's entries into `SourceBatch`es. A batch's position is the offset
 * just past its last entry and the count of entries (documents and rejects) seen so far, so
 * resuming from it neither repeats nor skips an entry.
 *
 * @example
 * declare const entry: BsonEntry;
 * const builder = new BatchBuilder('orders', 1000, 0);
 * builder.add(entry);
 * if (builder.full) console.log(builder.flush().docs.length);
 */
export class BatchBuilder {
  readonly #collection: string;
  readonly #size: number;
  #index: number;
  #docs: Document[] = [];
  #rejects: SourceReject[] = [];
  #frames: BsonFrame[] = [];
  readonly #raw: RawMode | undefined;
  #bytes = 0;
  #end = 0;

  constructor(collection: string, batchSize: number, startIndex: number, raw?: RawMode) {
    this.#collection = collection;
    this.#size = batchSize;
    this.#index = startIndex;
    this.#raw = raw;
  }

  get full(): boolean {
    return this.#count >= this.#size;
  }

  get empty(): boolean {
    return this.#count === 0;
  }

  get #count(): number {
    return this.#docs.length + this.#rejects.length + this.#frames.length;
  }

  add(entry: BsonEntry): void {
    if (entry.kind === 'doc') this.#docs.push(entry.doc);
    else if (entry.kind === 'raw') this.#frames.push(entry.frame);
    else this.#rejects.push(entry.reject);
    this.#bytes += entry.size;
    this.#end = entry.offset + entry.size;
    this.#index += 1;
  }

  flush(): SourceBatch {
    const batch: SourceBatch = {
      collection: this.#collection,
      docs: this.#docs,
      rejects: this.#rejects,
      position: { kind: 'offset', offset: this.#end, index: this.#index },
      bytes: this.#bytes,
      ...(this.#raw !== undefined &&
        this.#frames.length > 0 && { raw: { frames: this.#frames, ...this.#raw } }),
    };
    this.#docs = [];
    this.#rejects = [];
    this.#frames = [];
    this.#bytes = 0;
    return batch;
  }
}

/**
 * Check a read's options: a positive batch size, and a resume position of the kind file
 * sources produce.
 *
 * @example
 * declare const options: ReadOptions | undefined;
 * const { batchSize, after } = checkReadOptions(options, 'orders');
 */
export function checkReadOptions(
  options: ReadOptions | undefined,
  collection: string,
): { batchSize: number; after: Extract<ResumePosition, { kind: 'offset' }> | undefined } {
  const batchSize = options?.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new FerryError(`batch size must be a positive integer, got ${batchSize}`, {
      code: 'SOURCE_BAD_OPTION',
      category: 'usage',
    });
  }
  const after = options?.after;
  if (after !== undefined && after.kind !== 'offset') {
    throw new FerryError(`a dump or archive resumes from a file offset, not from an _id position`, {
      code: 'SOURCE_BAD_RESUME_POSITION',
      category: 'usage',
      where: { collection },
      hint: 'pass the position of a batch read from this same source',
    });
  }
  return { batchSize, after };
}
