import { BSON, type Document } from 'bson';
import { DESERIALIZE_OPTIONS } from '../sources/bson/decode-frame.js';

/**
 * A chunk's documents as they go to PostgreSQL: per table, one buffer of COPY text, and for
 * each document where its rows end in it. Any run of consecutive documents is then one slice
 * of each buffer, which is what bisection (write-chunk.ts) needs to load part of a chunk.
 * Holding bytes rather than documents and row objects keeps a chunk compact while it waits
 * for its turn: long-lived objects were what made the load spend its time collecting garbage.
 *
 * The documents themselves are kept only for what may still need them (a load reject must
 * store the document): as the decoded document, or as the BSON bytes it was read from.
 *
 * @example
 * declare const docs: EncodedDocuments;
 * const text = docs.text(0, 0, docs.count);   // every row of the root table
 * const n = docs.rows(1, 10, 20);             // child rows of documents 10…19
 */
export class EncodedDocuments {
  constructor(
    /** COPY input per table, in plan order: text lines, or binary rows where `binary` says so. */
    private readonly texts: readonly Buffer[],
    private readonly formats: readonly boolean[],
    /** Per table: byte offset just past document i's rows. */
    private readonly byteEnds: readonly Int32Array[],
    /** Per table: row count up to and including document i. */
    private readonly rowEnds: readonly Int32Array[],
    private readonly origins: readonly (Document | Buffer)[],
  ) {}

  get count(): number {
    return this.origins.length;
  }

  /** The COPY text of documents `[from, to)` in table `table` (plan order). */
  text(table: number, from: number, to: number): Buffer {
    const ends = this.byteEnds[table]!;
    return this.texts[table]!.subarray(from === 0 ? 0 : ends[from - 1]!, to === 0 ? 0 : ends[to - 1]!);
  }

  /** Whether table `table`'s rows are in binary COPY format (else text). */
  binary(table: number): boolean {
    return this.formats[table]!;
  }

  /** How many rows documents `[from, to)` have in table `table`. */
  rows(table: number, from: number, to: number): number {
    const ends = this.rowEnds[table]!;
    return (to === 0 ? 0 : ends[to - 1]!) - (from === 0 ? 0 : ends[from - 1]!);
  }

  /** Document `index`, decoded again if it was loaded from its bytes. */
  document(index: number): Document {
    const origin = this.origins[index]!;
    return Buffer.isBuffer(origin) ? BSON.deserialize(origin, DESERIALIZE_OPTIONS) : origin;
  }
}
