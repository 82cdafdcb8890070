import type { BsonFrame } from './read-frame.js';

/**
 * A batch of frames packed into buffers a worker thread can be handed (moved, not copied): the
 * bytes of every frame back to back, where each starts, and each one's offset in its file.
 */
export interface PackedFrames {
  readonly buffer: ArrayBuffer;
  /** Where frame i starts in `buffer`; one more entry marks the end of the last. */
  readonly starts: Int32Array;
  /** Each frame's offset in its file, for the messages of rejects. */
  readonly fileOffsets: Float64Array;
}

/**
 * Pack frames for a worker thread; post the result with `packedTransfer(packed)` as the
 * transfer list.
 *
 * @example
 * import type { Worker } from 'node:worker_threads';
 * declare const worker: Worker;
 * declare const frames: BsonFrame[];
 * const packed = packFrames(frames);
 * worker.postMessage({ packed }, packedTransfer(packed));
 */
export function packFrames(frames: readonly BsonFrame[]): PackedFrames {
  const starts = new Int32Array(frames.length + 1);
  const fileOffsets = new Float64Array(frames.length);
  let size = 0;
  frames.forEach((frame, i) => {
    starts[i] = size;
    fileOffsets[i] = frame.offset;
    size += frame.bytes.length;
  });
  starts[frames.length] = size;
  const bytes = new Uint8Array(size);
  frames.forEach((frame, i) => {
    bytes.set(frame.bytes, starts[i]!);
  });
  return { buffer: bytes.buffer, starts, fileOffsets };
}

/** The buffers of a packed batch, to move them to the thread instead of copying them. */
export function packedTransfer(packed: PackedFrames): ArrayBuffer[] {
  return [packed.buffer, packed.starts.buffer as ArrayBuffer, packed.fileOffsets.buffer as ArrayBuffer];
}

/**
 * The frames of a packed batch again, on the thread that received it (views, no copies).
 *
 * @example
 * declare const packed: PackedFrames;
 * for (const frame of unpackFrames(packed)) console.log(frame.offset, frame.bytes.length);
 */
export function unpackFrames(packed: PackedFrames): BsonFrame[] {
  const bytes = Buffer.from(packed.buffer);
  const frames: BsonFrame[] = [];
  for (let i = 0; i + 1 < packed.starts.length; i++)
    frames.push({
      offset: packed.fileOffsets[i]!,
      bytes: bytes.subarray(packed.starts[i]!, packed.starts[i + 1]!),
    });
  return frames;
}
