import { BSON, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { idHash, rawIdHash } from '../../../src/infer/id-hash.js';

describe('rawIdHash', () => {
  it('hashes an ObjectId or a string _id from the document bytes exactly as idHash hashes the decoded id', () => {
    const ids: unknown[] = [
      ...Array.from({ length: 500 }, () => new ObjectId()),
      new ObjectId('000000000000000000000000'),
      new ObjectId('ffffffffffffffffffffffff'),
      '',
      'user-1',
      '59a47286cfa9a3a73e51e72c',
      'ünïcödé ✓ 𝄞',
      '\uFEFFstarts with a byte order mark',
    ];
    for (const id of ids) {
      const bytes = BSON.serialize({ _id: id, name: 'x', n: 1 });
      expect(rawIdHash(bytes)).toBe(idHash(id));
    }
  });

  it('leaves to the caller an _id of another kind, one not stored first, one not UTF-8, and bytes cut short', () => {
    expect(rawIdHash(BSON.serialize({ _id: new Int32(7) }))).toBeUndefined();
    expect(rawIdHash(BSON.serialize({ _id: Long.fromNumber(7) }))).toBeUndefined();
    expect(rawIdHash(BSON.serialize({ _id: { a: 1 } }))).toBeUndefined();
    expect(rawIdHash(BSON.serialize({ name: 'x', _id: new ObjectId() }))).toBeUndefined();
    const text = BSON.serialize({ _id: 'abcd' });
    const notUtf8 = Uint8Array.from(text);
    notUtf8[13] = 0xff;
    expect(rawIdHash(notUtf8)).toBeUndefined();
    expect(rawIdHash(text.subarray(0, 15))).toBeUndefined();
    expect(rawIdHash(BSON.serialize({ _id: new ObjectId() }).subarray(0, 15))).toBeUndefined();
  });
});
