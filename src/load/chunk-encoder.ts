import type { Document } from 'bson';
import { type BinaryType, binaryColumnTypes, writeBinaryRow } from '../copy/copy-binary.js';
import { encodeCopyLine } from '../copy/copy-text.js';
import { TextSink } from '../copy/text-sink.js';
import { DocumentEncoder } from '../mapping/bson-copy/document-encoder.js';
import { type CompiledCollection, compiledCollection } from '../mapping/compile.js';
import type { Plan } from '../mapping/model.js';
import { toRows } from '../mapping/to-rows.js';
import type { TransformRegistry } from '../mapping/transforms.js';
import { decodeFrame } from '../sources/bson/decode-frame.js';
import { MAX_DOCUMENT_BYTES } from '../sources/bson/limits.js';
import type { RawDocuments } from '../sources/types.js';
import { EncodedDocuments } from './encoded-documents.js';
import { type RejectRecord, rejectFromMapping, rejectFromSource } from './reject-record.js';

/** What `EncodedDocuments` is made of, apart from the documents themselves. */
export interface EncodedParts {
  readonly texts: Buffer[];
  /** Per table: its rows are in binary COPY format. */
  readonly binary: boolean[];
  readonly byteEnds: Int32Array[];
  readonly rowEnds: Int32Array[];
}

/**
 * Builds the `EncodedDocuments` of one collection, document by document. BSON frames take the
 * fast path (bson-copy/) when it can read them, and every other document (decoded ones from
 * JSON sources, frames the fast path hands back) takes `toRows` + `encodeCopyLine`: the
 * bytes are the same either way, the fast path only skips building objects.
 *
 * @example
 * declare const plan: Plan;
 * declare const batch: SourceBatch;
 * const rejects: RejectRecord[] = [];
 * const encoder = new ChunkEncoder(plan, 'orders');
 * for (const doc of batch.docs) {
 *   const reject = encoder.addDocument(doc);
 *   if (reject) rejects.push(reject);
 * }
 * const docs = encoder.finish();
 */
export class ChunkEncoder {
  readonly #plan: Plan;
  readonly #collection: CompiledCollection;
  readonly #transforms: TransformRegistry | undefined;
  readonly #fast: DocumentEncoder | undefined;
  readonly #sinks: TextSink[];
  readonly #rows: Int32Array;
  /** Per table: the column types of a binary-format table, undefined for text. */
  readonly #binaryTypes: (BinaryType[] | undefined)[];
  #byteEnds: number[][];
  #rowEnds: number[][];
  #origins: (Document | Buffer)[] = [];

  /**
   * `binary`: write the tables that can take it in binary COPY format (a `pg` target; PGlite
   * reads text, and so do `ferry rejects retry` and dry runs, which need no speed).
   */
  constructor(plan: Plan, collection: string, transforms?: TransformRegistry, binary = false) {
    this.#plan = plan;
    this.#transforms = transforms;
    this.#collection = compiledCollection(plan, collection, transforms);
    const tables = this.#collection.tables.length;
    this.#sinks = Array.from({ length: tables }, () => new TextSink());
    this.#rows = new Int32Array(tables);
    this.#binaryTypes = this.#collection.tables.map((t) =>
      binary ? binaryColumnTypes(t.columnTypes) : undefined,
    );
    // The fast path writes each table in the format decided here, so both paths agree.
    this.#fast = DocumentEncoder.for(this.#collection, new TextSink(), this.#binaryTypes);
    this.#byteEnds = this.#sinks.map(() => []);
    this.#rowEnds = this.#sinks.map(() => []);
  }

  /** A decoded document; its reject when `toRows` refuses it. */
  addDocument(doc: Document): RejectRecord | undefined {
    const result = toRows(this.#plan, this.#collection.name, doc, this.#options());
    if (!result.ok) return rejectFromMapping(doc, result.reject);
    this.#collection.tables.forEach((table, i) => {
      const types = this.#binaryTypes[i];
      for (const row of result.rows.get(table.name) ?? []) {
        if (types === undefined) this.#sinks[i]!.writeString(encodeCopyLine(row, table.columnNames));
        else writeBinaryRow(this.#sinks[i]!, row, table.columnNames, types);
        this.#rows[i]!++;
      }
    });
    this.#commit(doc);
    return undefined;
  }

  /**
   * The raw batch's frames `[from, to)`; their rejects (frames that do not decode, documents
   * `toRows` refuses), which are also reported to the source (`noteRejects`).
   */
  addFrames(raw: RawDocuments, from = 0, to = raw.frames.length): RejectRecord[] {
    const rejects: RejectRecord[] = [];
    let unreadable = 0;
    for (const frame of raw.frames.slice(from, to)) {
      // Over 16 MiB is a read reject, which only `decodeFrame` words.
      const fast = this.#fast !== undefined && frame.bytes.length <= MAX_DOCUMENT_BYTES;
      if (fast && this.#tryFast(frame.bytes)) continue;
      const entry = decodeFrame(frame, raw.context);
      if (entry.kind === 'doc') {
        const reject = this.addDocument(entry.doc);
        if (reject !== undefined) rejects.push(reject);
      } else if (entry.kind === 'reject') {
        unreadable++;
        rejects.push(rejectFromSource(entry.reject));
      }
    }
    if (unreadable > 0) raw.noteRejects(unreadable);
    return rejects;
  }

  /** Documents added since the last `finish`. */
  get count(): number {
    return this.#origins.length;
  }

  /** The documents added since the last `finish`; the encoder is then empty again. */
  finish(): EncodedDocuments {
    const origins = this.#origins;
    const { texts, binary, byteEnds, rowEnds } = this.finishParts();
    return new EncodedDocuments(texts, binary, byteEnds, rowEnds, origins);
  }

  /** `finish` as plain parts (buffers and arrays a worker can transfer), origins left out. */
  finishParts(): EncodedParts {
    const parts = {
      texts: this.#sinks.map((sink) => sink.takeCopy()),
      binary: this.#binaryTypes.map((types) => types !== undefined),
      byteEnds: this.#byteEnds.map((ends) => Int32Array.from(ends)),
      rowEnds: this.#rowEnds.map((ends) => Int32Array.from(ends)),
    };
    this.#rows.fill(0);
    this.#byteEnds = this.#sinks.map(() => []);
    this.#rowEnds = this.#sinks.map(() => []);
    this.#origins = [];
    return parts;
  }

  #tryFast(bytes: Buffer): boolean {
    if (this.#fast!.encode(bytes, this.#sinks, this.#rows)) {
      this.#commit(bytes);
      return true;
    }
    // Handed back half-written: forget its rows (the ends of the previous document say where
    // they began), and the slow path writes them again.
    const last = this.#origins.length - 1;
    this.#sinks.forEach((sink, i) => {
      sink.length = last < 0 ? 0 : this.#byteEnds[i]![last]!;
      this.#rows[i] = last < 0 ? 0 : this.#rowEnds[i]![last]!;
    });
    return false;
  }

  #commit(origin: Document | Buffer): void {
    this.#origins.push(origin);
    for (let i = 0; i < this.#sinks.length; i++) {
      this.#byteEnds[i]!.push(this.#sinks[i]!.length);
      this.#rowEnds[i]!.push(this.#rows[i]!);
    }
  }

  #options(): { transforms?: TransformRegistry } {
    return this.#transforms === undefined ? {} : { transforms: this.#transforms };
  }
}
