import { BSON, EJSON } from 'bson';

/**
 * Size of a value by BSON type byte, for the types an `_id` can have. Only used to cut the
 * `_id` element out of a document that as a whole does not deserialize, so the reject can
 * still say which document it was; decoding the value itself is left to the `bson` package.
 */
function valueSize(type: number, bytes: Uint8Array, at: number): number | undefined {
  const int32 = () =>
    at + 4 <= bytes.length ? new DataView(bytes.buffer, bytes.byteOffset + at, 4).getInt32(0, true) : -1;
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string: int32 length + bytes (length includes the NUL)
    case 0x0d: // JavaScript code
    case 0x0e: // symbol
      return 4 + int32();
    case 0x03: // embedded document
    case 0x04: // array
      return int32();
    case 0x05: // binary: int32 length + subtype + bytes
      return 4 + 1 + int32();
    case 0x07: // ObjectId
      return 12;
    case 0x08: // boolean
      return 1;
    case 0x10: // int32
      return 4;
    case 0x13: // Decimal128
      return 16;
    case 0x06: // undefined
    case 0x0a: // null
    case 0x7f: // MaxKey
    case 0xff: // MinKey
      return 0;
    default:
      return undefined;
  }
}

const ID_NAME = [0x5f, 0x69, 0x64, 0x00]; // "_id\0"

/**
 * Whether the document's first element is its `_id`, where mongod always stores it: the
 * key `_id` right after the length and the first type byte.
 *
 * @example
 * import { BSON } from 'bson';
 * idIsFirst(BSON.serialize({ _id: 1, a: 2 }))   // true
 */
export function idIsFirst(bytes: Uint8Array): boolean {
  return ID_NAME.every((b, i) => bytes[5 + i] === b);
}

/**
 * Recover the `_id` of a damaged document when it is the first field (mongod always stores
 * it first) and its own bytes are intact. Returns `undefined` when that cannot be done.
 *
 * @example
 * declare const damagedBytes: Buffer;
 * recoverId(damagedBytes); // ObjectId('5bd761dcae323e45a93ccfef') or undefined
 */
export function recoverId(bytes: Uint8Array): unknown {
  const type = bytes[4];
  if (type === undefined || !idIsFirst(bytes)) return undefined;
  const valueAt = 9;
  const size = valueSize(type, bytes, valueAt);
  if (size === undefined || size < 0 || valueAt + size > bytes.length - 1) return undefined;
  const element = bytes.subarray(4, valueAt + size);
  const mini = new Uint8Array(4 + element.length + 1);
  new DataView(mini.buffer).setInt32(0, mini.length, true);
  mini.set(element, 4);
  try {
    return BSON.deserialize(mini, { promoteValues: false })._id;
  } catch {
    return undefined;
  }
}

const MAX_ID_TEXT = 200;

/**
 * An `_id` as text for error locations: canonical Extended JSON, so an ObjectId, a string
 * and a number that look alike stay distinguishable. Long ids are shortened.
 *
 * @example
 * import { ObjectId } from 'bson';
 * describeId(new ObjectId('5bd761dcae323e45a93ccfef')); // '{"$oid":"5bd761dcae323e45a93ccfef"}'
 */
export function describeId(id: unknown): string | undefined {
  if (id === undefined) return undefined;
  let text: string;
  try {
    text = EJSON.stringify(id, { relaxed: false });
  } catch {
    text = String(id);
  }
  return text.length > MAX_ID_TEXT ? `${text.slice(0, MAX_ID_TEXT)}…` : text;
}
