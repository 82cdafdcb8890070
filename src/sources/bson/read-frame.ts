import { FerryError } from '../../core/errors.js';
import type { ByteReader } from './byte-reader.js';
import { MAX_FRAME_BYTES, MIN_FRAME_BYTES } from './limits.js';

/** One length-prefixed BSON document's bytes, not yet deserialized. */
export interface BsonFrame {
  /** Offset of the length prefix in the (decompressed) input. */
  readonly offset: number;
  readonly bytes: Buffer;
}

/** Where a frame is being read, for error messages. */
export interface FrameContext {
  readonly file: string;
  /** The namespace (`db.collection`) when known. */
  readonly collection?: string;
}

/**
 * Read the next length-prefixed document, checking only the framing: the length must be
 * possible, all its bytes must be there and the last must be the 0x00 terminator. When the
 * framing is wrong we cannot know where the next document starts, so these are errors, never
 * rejects, and never a quiet end of input. Returns `undefined` only at a clean end.
 *
 * @example
 * declare const reader: ByteReader;
 * declare const ctx: FrameContext;
 * let count = 0;
 * for (let f = await readFrame(reader, ctx); f; f = await readFrame(reader, ctx)) count++;
 */
export async function readFrame(reader: ByteReader, context: FrameContext): Promise<BsonFrame | undefined> {
  const offset = reader.offset;
  const length = bufferedFrameLength(reader) ?? (await checkFrame(reader, context));
  if (length === undefined) return undefined;
  return { offset, bytes: reader.take(length) };
}

/**
 * Step over the next document with the same framing checks as `readFrame`, without copying
 * its bytes: for a scan that must walk past documents it does not want (another collection's
 * blocks in an archive). Returns false only at a clean end.
 *
 * @example
 * declare const reader: ByteReader;
 * declare const ctx: FrameContext;
 * let skipped = 0;
 * while (await skipFrame(reader, ctx)) skipped++;
 */
export async function skipFrame(reader: ByteReader, context: FrameContext): Promise<boolean> {
  const length = bufferedFrameLength(reader) ?? (await checkFrame(reader, context));
  if (length === undefined) return false;
  await reader.skip(length);
  return true;
}

/**
 * The length of the next frame when it is already buffered whole and passes every framing
 * check; undefined otherwise (more to read, or something wrong), and `checkFrame` then waits
 * or words the error. Most frames are buffered: this spares them the awaits.
 */
export function bufferedFrameLength(reader: ByteReader): number | undefined {
  if (reader.available < 4) return undefined;
  const length = reader.peekInt32();
  if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES || length > reader.available) return undefined;
  return reader.peekByte(length - 1) === 0 ? length : undefined;
}

/** The framing checks of `readFrame`: the length of a whole, well-terminated frame, buffered. */
async function checkFrame(reader: ByteReader, context: FrameContext): Promise<number | undefined> {
  const offset = reader.offset;
  const head = await reader.ensure(4);
  if (head === 0) return undefined;
  if (head < 4) {
    throw truncated(context, offset, `the input ends ${head} byte(s) into a document's length prefix`);
  }
  const length = reader.peekInt32();
  if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES) {
    throw corruptLength(
      context,
      offset,
      `a document claims to be ${length} bytes long, which no BSON document can be (${MIN_FRAME_BYTES}..${MAX_FRAME_BYTES})`,
    );
  }
  const available = await reader.ensure(length);
  if (available < length) {
    throw truncated(
      context,
      offset,
      `a document claims ${length} bytes but the input ends after ${available}`,
    );
  }
  if (reader.peekByte(length - 1) !== 0) {
    throw corruptLength(
      context,
      offset,
      `a document claims ${length} bytes but its last byte is not the 0x00 terminator`,
    );
  }
  return length;
}

/**
 * The error for input that stops too early. Truncation is never treated as a clean end,
 * because a cut file would otherwise load as a silently shorter collection.
 *
 * @example
 * throw truncated({ file: 'a.archive', collection: 'shop.orders' }, 1234, 'the archive ends mid-block');
 */
export function truncated(context: FrameContext, offset: number, detail: string): FerryError {
  return new FerryError(`${context.file} is truncated: ${detail}`, {
    code: 'SOURCE_TRUNCATED',
    category: 'input',
    where: {
      file: context.file,
      offset,
      ...(context.collection !== undefined && { collection: context.collection }),
    },
    hint: 'the file was cut short (an interrupted copy or dump); re-create it',
  });
}

function corruptLength(context: FrameContext, offset: number, detail: string): FerryError {
  return new FerryError(`${context.file} is corrupt: ${detail}`, {
    code: 'SOURCE_CORRUPT_LENGTH',
    category: 'input',
    where: {
      file: context.file,
      offset,
      ...(context.collection !== undefined && { collection: context.collection }),
    },
    hint: 'the bytes are damaged here and nothing after this point can be located; re-create the dump',
  });
}
