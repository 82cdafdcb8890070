import { canonicalHash } from '../mapping/canonical/index.js';
import { type DecodeContext, decodeFrame } from '../sources/bson/decode-frame.js';
import type { BsonFrame } from '../sources/bson/read-frame.js';
import { rawCanonicalHashes } from './raw-canonical.js';

/**
 * The canonical hashes of a batch of source documents still in BSON: for document i,
 * `hashes[2i]` is its id hash and `hashes[2i + 1]` its document hash. Frames that do not
 * decode are counted in `unreadable`, as the decoded read counts its rejects.
 */
export interface FrameHashes {
  readonly documents: number;
  readonly unreadable: number;
  readonly hashes: BigUint64Array;
}

/**
 * Hash every frame straight from its bytes (raw-canonical.ts), and decode only those it
 * declines, hashing the decoded document as before: either way the hashes are those of the
 * decoded document. Runs on a worker thread (source-hash-worker.ts) or, for the first
 * batches, on the calling thread.
 *
 * @example
 * declare const frames: BsonFrame[];
 * const { documents, hashes } = hashFrames(frames, { file: 'orders.bson', collection: 'orders' });
 */
export function hashFrames(frames: readonly BsonFrame[], context: DecodeContext): FrameHashes {
  const hashes = new BigUint64Array(frames.length * 2);
  const out = { id: 0n, doc: 0n };
  let documents = 0;
  let unreadable = 0;
  for (const frame of frames) {
    if (!rawCanonicalHashes(frame.bytes, out)) {
      const entry = decodeFrame(frame, context);
      if (entry.kind !== 'doc') {
        unreadable++;
        continue;
      }
      out.id = canonicalHash(entry.doc._id);
      out.doc = canonicalHash(entry.doc);
    }
    hashes[documents * 2] = out.id;
    hashes[documents * 2 + 1] = out.doc;
    documents++;
  }
  return { documents, unreadable, hashes };
}
