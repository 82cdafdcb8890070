import { BSON, Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { DESERIALIZE_OPTIONS } from '../../sources/bson/decode-frame.js';
import { BSON_TYPE, bail, ElementCursor, readInt32 } from './bson-elements.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The JS value the full decoder (`BSON.deserialize` with DESERIALIZE_OPTIONS) gives for one
 * element, for the values the fast path hands to the ordinary mapping code: `_extra`
 * residue, arrays, jsonb and numeric columns. Sub-documents go through `BSON.deserialize`
 * itself; arrays are walked here, by position, as `bson` does. Types the fast path does not
 * know give up (`BAIL`), and the document takes the full decoder.
 *
 * @example
 * declare const bytes: Buffer;
 * declare const at: number; // where the element's value starts
 * elementValue(bytes, BSON_TYPE.int32, at, at + 4); // Int32 { value: 5 }
 */
export function elementValue(bytes: Buffer, type: number, start: number, end: number): unknown {
  switch (type) {
    case BSON_TYPE.double:
      return new Double(bytes.readDoubleLE(start));
    case BSON_TYPE.string:
      return stringValue(bytes, start, end);
    case BSON_TYPE.document:
      // A sub-document decodes alone exactly as inside its parent (DBRef detection included).
      try {
        return BSON.deserialize(bytes.subarray(start, end), DESERIALIZE_OPTIONS);
      } catch {
        return bail();
      }
    case BSON_TYPE.array:
      return arrayValue(bytes, start, end);
    case BSON_TYPE.objectId:
      return new ObjectId(Uint8Array.prototype.slice.call(bytes, start, end));
    case BSON_TYPE.bool: {
      const byte = bytes[start];
      if (byte !== 0 && byte !== 1) bail();
      return byte === 1;
    }
    case BSON_TYPE.date:
      return new Date(new Long(readInt32(bytes, start), readInt32(bytes, start + 4)).toNumber());
    case BSON_TYPE.null:
      return null;
    case BSON_TYPE.int32:
      return new Int32(readInt32(bytes, start));
    case BSON_TYPE.int64:
      return new Long(readInt32(bytes, start), readInt32(bytes, start + 4));
    case BSON_TYPE.decimal128:
      return new Decimal128(Uint8Array.prototype.slice.call(bytes, start, end));
    case BSON_TYPE.undefined:
      return bail();
    default:
      return rareValue(bytes, type, start, end);
  }
}

/**
 * A rare type (binary, regex, timestamp, code, MinKey, …) through the full decoder: the
 * element alone, under the empty key, in a document of its own.
 */
function rareValue(bytes: Buffer, type: number, start: number, end: number): unknown {
  const size = 4 + 2 + (end - start) + 1;
  const doc = Buffer.allocUnsafe(size);
  doc.writeInt32LE(size, 0);
  doc[4] = type;
  doc[5] = 0;
  bytes.copy(doc, 6, start, end);
  doc[size - 1] = 0;
  try {
    return BSON.deserialize(doc, DESERIALIZE_OPTIONS)[''];
  } catch {
    return bail();
  }
}

/** A string element's text; invalid UTF-8 gives up, as the full decoder refuses it. */
export function stringValue(bytes: Buffer, start: number, end: number): string {
  const length = readInt32(bytes, start);
  const from = start + 4;
  const to = from + length - 1;
  if (to + 1 !== end) bail();
  for (let i = from; i < to; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        return utf8.decode(bytes.subarray(from, to));
      } catch {
        return bail();
      }
    }
  }
  return bytes.toString('latin1', from, to);
}

function arrayValue(bytes: Buffer, start: number, end: number): unknown[] {
  const out: unknown[] = [];
  const cursor = new ElementCursor(bytes, start, end);
  while (cursor.next()) out.push(elementValue(bytes, cursor.type, cursor.valueStart, cursor.valueEnd));
  return out;
}
