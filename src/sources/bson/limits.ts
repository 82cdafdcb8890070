/**
 * MongoDB refuses to store a user document larger than this (BSONObjMaxUserSize). A bigger
 * one in a dump can be read, but it could never be written back to MongoDB (the outbox,
 * a rollback), so Ferry rejects it instead of loading something one-way.
 *
 * @example
 * declare const bytes: Buffer;
 * declare function reject(code: string): void;
 * if (bytes.length > MAX_DOCUMENT_BYTES) reject('SOURCE_DOC_TOO_LARGE');
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * The largest length prefix we believe at all. The server's own internal limit
 * (BSONObjMaxInternalSize) is 16 MiB + 16 KiB, so nothing mongodump wrote is bigger; a
 * larger prefix means the bytes are not where a document starts, and every offset after it
 * would be garbage, so it is an error rather than a reject.
 *
 * @example
 * declare const length: number;
 * declare function corruptLength(): Error;
 * if (length > MAX_FRAME_BYTES) throw corruptLength();
 */
export const MAX_FRAME_BYTES = MAX_DOCUMENT_BYTES + 16 * 1024;

/** The smallest BSON document: int32 length + the 0x00 terminator. */
export const MIN_FRAME_BYTES = 5;
