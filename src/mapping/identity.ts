import { ObjectId } from 'bson';
import { FerryError } from '../core/errors.js';

/**
 * Deterministic identity (DESIGN.md invariant 5): an ObjectId becomes a UUID by a fixed,
 * reversible function, so `_id`s and the references to them in other collections map the
 * same way with no lookup table.
 *
 * Layout (hex digits of `tttttttt-tttt-7feR-aRRR-RRRRRRRRRRRR`):
 * - `t` (48 bits): the ObjectId's timestamp in unix milliseconds, i.e. seconds × 1000. This is
 *   exactly the UUIDv7 `unix_ts_ms` field, so the UUID is time-ordered like a v7 and B-tree
 *   inserts stay local. Seconds × 1000 (not seconds plus spare bits in the millisecond part)
 *   keeps the timestamp true for tools that read v7 times.
 * - `7` is the version nibble; `fe` (8 bits) and the `a` (variant `10` plus 2 bits `10`) are
 *   the fixed marker: 10 spare bits after the 64 ObjectId bits that remain are placed.
 * - `R` (64 bits): ObjectId bytes 4..11 (5 random/process bytes and the 3-byte counter), in
 *   order. With the marker bits constant, UUID string order equals ObjectId byte order.
 *
 * `isObjectIdUuid` checks the version, the marker, and that the milliseconds are a whole
 * number of seconds within an ObjectId's range. A random v4 UUID never matches (version 4);
 * an unrelated v7 UUID matches by chance with probability about 1 / (1024 × 1000).
 */
const MARKER_A = '7fe';
const MARKER_B = 'a';
const HEX_24 = /^[0-9a-fA-F]{24}$/;

/**
 * The UUID (lowercase, hyphenated) that stands for an ObjectId in PostgreSQL.
 *
 * @example
 * objectIdToUuid('64b7f1c2a9e3d40012345678'); // '01896e88-5dd0-7fea-a9e3-d40012345678'
 */
export function objectIdToUuid(oid: ObjectId | string): string {
  if (typeof oid !== 'string') return uuidFromBytes(oid.id);
  const hex = checkHex(oid);
  const seconds = Number.parseInt(hex.slice(0, 8), 16);
  const ms = (seconds * 1000).toString(16).padStart(12, '0');
  const rest = hex.slice(8); // 16 hex digits = 64 bits
  return `${ms.slice(0, 8)}-${ms.slice(8)}-${MARKER_A}${rest[0]}-${MARKER_B}${rest.slice(1, 4)}-${rest.slice(4)}`;
}

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * The UUID's 16 bytes for the ObjectId at `bytes[at…at+12)`, written at `out[o…o+16)`: the
 * layout above as bytes. Every fast form derives from it (binary COPY writes these bytes,
 * the text forms their hex), so the layout is defined once.
 */
export function writeObjectIdUuidBytes(bytes: Uint8Array, at: number, out: Uint8Array, o: number): void {
  const seconds = bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
  // Milliseconds fit in 48 bits (< 2^42): split into two 24-bit halves, three bytes each.
  const ms = seconds * 1000;
  const high = Math.floor(ms / 0x1000000);
  const low = ms - high * 0x1000000;
  out[o] = high >>> 16;
  out[o + 1] = (high >>> 8) & 0xff;
  out[o + 2] = high & 0xff;
  out[o + 3] = low >>> 16;
  out[o + 4] = (low >>> 8) & 0xff;
  out[o + 5] = low & 0xff;
  // The version nibble 7 and the marker: fe, then a before the first random byte's low half.
  out[o + 6] = 0x7f;
  out[o + 7] = 0xe0 | (bytes[at + 4]! >>> 4);
  out[o + 8] = 0xa0 | (bytes[at + 4]! & 0x0f);
  for (let i = 5; i < 12; i++) out[o + 4 + i] = bytes[at + i]!;
}

const UUID_BYTES = new Uint8Array(16);

/**
 * `objectIdToUuid` from the ObjectId's 12 bytes (at `offset`), for the load path (one call
 * per document and reference): table lookups instead of a hex string, `parseInt`,
 * `toString(16)` and slices. Same output; identity.test.ts pins it against the hex-string path.
 */
export function uuidFromBytes(bytes: Uint8Array, offset = 0): string {
  const u = UUID_BYTES;
  writeObjectIdUuidBytes(bytes, offset, u, 0);
  return `${HEX[u[0]!]}${HEX[u[1]!]}${HEX[u[2]!]}${HEX[u[3]!]}-${HEX[u[4]!]}${HEX[u[5]!]}-${HEX[u[6]!]}${HEX[u[7]!]}-${HEX[u[8]!]}${HEX[u[9]!]}-${HEX[u[10]!]}${HEX[u[11]!]}${HEX[u[12]!]}${HEX[u[13]!]}${HEX[u[14]!]}${HEX[u[15]!]}`;
}

/**
 * The ObjectId a Ferry UUID stands for; the exact inverse of `objectIdToUuid`. Accepts upper
 * or lower case. Throws `IDENTITY_NOT_OBJECTID_UUID` for any other UUID.
 *
 * @example
 * import { ObjectId } from 'bson';
 * const id = new ObjectId();
 * uuidToObjectId(objectIdToUuid(id)).equals(id); // true
 */
export function uuidToObjectId(uuid: string): ObjectId {
  const bytes = objectIdBytes(uuid);
  if (bytes === undefined) {
    throw new FerryError(`${JSON.stringify(uuid)} is not a UUID that Ferry made from an ObjectId`, {
      code: 'IDENTITY_NOT_OBJECTID_UUID',
      category: 'input',
      hint: 'only UUIDs from objectIdToUuid (version 7, marker 7fe…-a…) map back to ObjectIds',
    });
  }
  return new ObjectId(bytes);
}

/**
 * Whether a UUID was made by `objectIdToUuid` (so `uuidToObjectId` will accept it).
 *
 * @example
 * import { ObjectId } from 'bson';
 * isObjectIdUuid(objectIdToUuid(new ObjectId()));         // true
 * isObjectIdUuid('0f8fad5b-d9cb-469f-a165-70867728950e'); // false (a v4 UUID)
 */
export function isObjectIdUuid(uuid: string): boolean {
  return objectIdBytes(uuid) !== undefined;
}

/**
 * The ObjectId's 12 bytes, or undefined when the UUID is not one of ours: the shape
 * `tttttttt-tttt-7feR-aRRR-RRRRRRRRRRRR` (any case), whose 48-bit time is whole seconds that
 * fit 32 bits. By character codes rather than a regular expression and hex strings: the
 * export and verify decode every id and reference of every document they rebuild.
 */
export function objectIdBytes(uuid: string): Uint8Array | undefined {
  if (uuid.length !== 36) return undefined;
  const u = UUID_BYTES;
  let at = 0;
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (uuid.charCodeAt(i) !== 0x2d) return undefined;
      i--;
      continue;
    }
    const high = hexValue(uuid.charCodeAt(i));
    const low = hexValue(uuid.charCodeAt(i + 1));
    if (high < 0 || low < 0) return undefined;
    u[at++] = (high << 4) | low;
  }
  if (u[6] !== 0x7f || u[7]! >>> 4 !== 0xe || u[8]! >>> 4 !== 0xa) return undefined;
  const ms = (u[0]! * 2 ** 16 + ((u[1]! << 8) | u[2]!)) * 2 ** 24 + ((u[3]! << 16) | (u[4]! << 8) | u[5]!);
  if (ms % 1000 !== 0) return undefined;
  const seconds = ms / 1000;
  if (seconds > 0xffffffff) return undefined;
  const out = new Uint8Array(12);
  out[0] = seconds >>> 24;
  out[1] = (seconds >>> 16) & 0xff;
  out[2] = (seconds >>> 8) & 0xff;
  out[3] = seconds & 0xff;
  out[4] = ((u[7]! & 0x0f) << 4) | (u[8]! & 0x0f);
  for (let i = 5; i < 12; i++) out[i] = u[i + 4]!;
  return out;
}

/** A hex digit's value (either case), or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

function checkHex(hex: string): string {
  if (!HEX_24.test(hex)) {
    throw new FerryError(`${JSON.stringify(hex)} is not an ObjectId (24 hex digits)`, {
      code: 'IDENTITY_NOT_OBJECTID',
      category: 'input',
    });
  }
  return hex.toLowerCase();
}
