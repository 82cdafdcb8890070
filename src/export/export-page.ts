import { BSON, type Document, Long } from 'bson';
import { FerryError } from '../core/errors.js';
import { BsonToCanonicalEjson } from '../mapping/bson-to-canonical-ejson.js';
import { canonicalHash } from '../mapping/canonical/index.js';
import type { Plan } from '../mapping/model.js';
import type { RowValue } from '../mapping/row-values.js';
import { RowsToBson } from '../mapping/rows-to-bson.js';
import { Crc64 } from '../sources/archive/crc64.js';
import { ARCHIVE_BLOCK_END, archiveHeader } from '../sources/archive/write-archive.js';
import type { Queryable } from '../target/target-database.js';
import { type RawHashes, rawCanonicalHashes } from '../verify/raw-canonical.js';
import {
  readTargetRows,
  rebuildTargetDocument,
  type TargetDocument,
  type TargetRows,
} from '../verify/target-reader.js';
import { collectionLayout, type ExportFormat, type JsonLayout } from './export-format.js';
import type { RowKeyJson } from './export-journal.js';
import { keyText, type UnrebuildableRow } from './orphan-rows.js';

/**
 * One page of a collection's export, ready to append: the bytes of its documents, and what
 * the journal records once they are durable. Plain data (buffers, numbers, strings), so a
 * worker thread can build it and move it to the thread that writes.
 */
export interface EncodedPage {
  /** The page's documents as the format writes them (for an archive, one block of them). */
  readonly bytes: Uint8Array;
  readonly documents: number;
  /** Per document, `canonicalHash(_id)` then `canonicalHash(doc)`: deep verify's bucket input. */
  readonly hashes: BigUint64Array;
  /** Root rows of the page that do not rebuild into a document. */
  readonly damaged: readonly UnrebuildableRow[];
  /** The page's last root key: the next page starts after it. */
  readonly lastKey: RowKeyJson;
  /** An archive's running CRC-64 of the collection after this page. */
  readonly crc?: readonly [number, number];
}

/** How pages are encoded: the export's format and the settings every collection shares. */
export interface PageEncoding {
  readonly format: ExportFormat;
  /** The database name in an archive's namespaces. */
  readonly db: string;
  readonly json?: JsonLayout;
}

/** Where one collection's pages start: after a checkpoint, or at the beginning. */
export interface PageStart {
  readonly collection: string;
  readonly schema: string;
  readonly pageSize: number;
  readonly after?: RowKeyJson;
  /** Documents already exported (plain JSON separates all but the first). */
  readonly position: number;
  /** An archive's CRC-64 state at the checkpoint. */
  readonly crc?: readonly [number, number];
}

/**
 * A collection's documents rebuilt from the target (BSON written straight from the rows where
 * RowsToBson can, and Extended JSON from that BSON where BsonToCanonicalEjson can, else through
 * `toDoc`), a page at a time in key order from `start`, each page
 * encoded and hashed. The same on the calling thread and on an
 * export thread (export-thread.ts), so the bytes and hashes do not depend on where it ran.
 *
 * @example
 * declare const db: TargetDatabase;
 * declare const plan: Plan;
 * const start = { collection: 'orders', schema: 'public', pageSize: 5000, position: 0 };
 * for await (const page of encodedPages(db, plan, start, { format: 'ejson', db: 'shop' }))
 *   console.log(page.documents, page.bytes.length);
 */
export async function* encodedPages(
  db: Queryable,
  plan: Plan,
  start: PageStart,
  encoding: PageEncoding,
  signal?: AbortSignal,
): AsyncGenerator<EncodedPage> {
  const root = plan.collections.find((c) => c.name === start.collection)!.tables[0]!.name;
  const where = { plan, collection: start.collection, schema: start.schema };
  const encoder = documentEncoder(start, encoding);
  // An archive or a dump holds each document's BSON, written straight from the rows; Extended
  // JSON is written from that BSON too (BsonToCanonicalEjson).
  const writer = encoding.format !== 'json' ? RowsToBson.for(plan, start.collection) : undefined;
  const text = encoding.format === 'ejson' ? new BsonToCanonicalEjson() : undefined;
  let position = start.position;
  const pages = readTargetRows(db, where, {
    batchSize: start.pageSize,
    ...(signal !== undefined && { signal }),
    ...(start.after !== undefined && { after: keyFromJson(start.after) }),
  });
  for await (const page of pages) {
    const hashes = new BigUint64Array(page.length * 2);
    const damaged: UnrebuildableRow[] = [];
    const reportDamaged = (item: TargetRows, target: TargetDocument) =>
      damaged.push({
        table: root,
        key: keyText(item.key),
        reason: `the rows of ${target.damaged ?? 'the document'} do not rebuild into a document`,
      });
    let documents = 0;
    let chunks: Uint8Array[];
    if (writer !== undefined && text !== undefined) {
      text.reset();
      for (const item of page) {
        // Only one document's BSON at a time: the text is what the page keeps.
        writer.reset();
        // An undefined field is in toDoc's document, and so in its text, but not in its BSON.
        if (writer.write(item.rows) && !writer.mayHoldUndefined) {
          const bytes = writer.bytes().subarray(0, writer.length);
          if (text.write(bytes)) {
            text.append(NEWLINE);
            hashBson(hashes, 2 * documents, bytes, () => rebuildTargetDocument(where, item).doc!);
            documents++;
            position++;
            continue;
          }
        }
        // Declined by the writer or the walker: toDoc decides, and EJSON writes it as before.
        const target = rebuildTargetDocument(where, item);
        if (target.doc === undefined) {
          reportDamaged(item, target);
          continue;
        }
        text.append(encoder.encode(target.doc, position++, hashes, 2 * documents));
        documents++;
      }
      chunks = [text.bytes().subarray(0, text.length)];
    } else if (writer !== undefined) {
      writer.reset();
      for (const item of page) {
        const at = writer.length;
        let doc: Document | undefined;
        if (!writer.write(item.rows)) {
          // A shape the writer declines, or rows toDoc may refuse: toDoc decides.
          const target = rebuildTargetDocument(where, item);
          if (target.doc === undefined) {
            reportDamaged(item, target);
            continue;
          }
          doc = target.doc;
          writer.append(BSON.serialize(doc));
        }
        const bytes = writer.bytes().subarray(at, writer.length);
        hashBson(hashes, 2 * documents, bytes, () => doc ?? rebuildTargetDocument(where, item).doc!);
        documents++;
        position++;
      }
      const written = writer.bytes().subarray(0, writer.length);
      // CRC-64 runs over the documents' bytes in order, so one update per page is the same.
      encoder.crc?.update(written);
      chunks = [written];
    } else {
      chunks = [];
      for (const item of page) {
        const target = rebuildTargetDocument(where, item);
        if (target.doc === undefined) {
          reportDamaged(item, target);
          continue;
        }
        chunks.push(encoder.encode(target.doc, position++, hashes, 2 * documents));
        documents++;
      }
    }
    const bytes = documents === 0 ? new Uint8Array(0) : ownBuffer(encoder.frame(chunks));
    yield {
      bytes,
      documents,
      hashes: hashes.subarray(0, 2 * documents),
      damaged,
      lastKey: keyToJson(page[page.length - 1]!.key),
      ...(encoder.crc !== undefined && { crc: encoder.crc.state }),
    };
  }
}

/**
 * The chunks in one buffer of its own: a worker thread moves the page's buffer to the writing
 * thread, and `Buffer.concat` may hand out a slice of the pool other buffers share.
 */
function ownBuffer(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

interface DocumentEncoder {
  /** Encode one document, and write its id hash and hash at `hashes[at]`, `hashes[at + 1]`. */
  encode(doc: Document, position: number, hashes: BigUint64Array, at: number): Uint8Array;
  /** A page's encoded documents with the format's framing around them. */
  frame(chunks: Uint8Array[]): Uint8Array[];
  readonly crc?: Crc64;
}

function documentEncoder(start: PageStart, encoding: PageEncoding): DocumentEncoder {
  const { format } = encoding;
  if (format === 'archive') {
    const crc = start.crc === undefined ? new Crc64() : Crc64.resume(start.crc);
    const header = archiveHeader(encoding.db, start.collection, false, Long.ZERO);
    return {
      crc,
      encode: (doc, _position, hashes, at) => {
        const bytes = BSON.serialize(doc);
        crc.update(bytes);
        hashBson(hashes, at, bytes, () => doc);
        return bytes;
      },
      frame: (chunks) => [header, ...chunks, ARCHIVE_BLOCK_END],
    };
  }
  // The file name and gzip are the writer's; only the encoding of a document matters here.
  const layout = collectionLayout(format, '', start.collection, {
    db: encoding.db,
    gzip: false,
    ...(encoding.json !== undefined && { json: encoding.json }),
  });
  return {
    encode: (doc, position, hashes, at) => {
      const bytes = layout.encode(doc, position);
      // A dump's file holds each document's BSON, an Extended JSON one its text.
      if (format === 'dump') hashBson(hashes, at, bytes, () => doc);
      else {
        hashes[at] = canonicalHash(doc._id);
        hashes[at + 1] = canonicalHash(doc);
      }
      return bytes;
    },
    frame: (chunks) => chunks,
  };
}

/**
 * Hash a document from the BSON bytes being written, without a second walk of the document:
 * `rawCanonicalHashes` gives exactly `canonicalHash` of the document the bytes decode to (the
 * hash deep verify computes of the file's documents), and declines the rare shapes it does
 * not write exactly, which are hashed from the document instead.
 */
function hashBson(hashes: BigUint64Array, at: number, bytes: Uint8Array, document: () => Document): void {
  if (rawCanonicalHashes(bytes, RAW)) {
    hashes[at] = RAW.id;
    hashes[at + 1] = RAW.doc;
  } else {
    const doc = document();
    hashes[at] = canonicalHash(doc._id);
    hashes[at + 1] = canonicalHash(doc);
  }
}
const RAW: RawHashes = { id: 0n, doc: 0n };
const NEWLINE = Buffer.from('\n');

function keyToJson(key: RowValue): RowKeyJson {
  if (Buffer.isBuffer(key)) return { hex: key.toString('hex') };
  if (typeof key === 'string' || typeof key === 'number') return key;
  throw new FerryError('a root table has a primary key Ferry cannot page by', {
    code: 'EXPORT_BAD_KEY',
    category: 'internal',
  });
}

function keyFromJson(key: RowKeyJson): RowValue {
  return typeof key === 'object' ? Buffer.from(key.hex, 'hex') : key;
}
