import { Binary, BSON, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateNastyDocuments } from '../../../src/generate/index.js';
import { canonicalHash } from '../../../src/mapping/canonical/index.js';
import { DESERIALIZE_OPTIONS } from '../../../src/sources/bson/decode-frame.js';
import { type RawHashes, rawCanonicalHashes } from '../../../src/verify/raw-canonical.js';

/** What deep verify hashed before: the decoded document and its `_id`. */
function decodedHashes(bytes: Uint8Array): RawHashes {
  const doc = BSON.deserialize(bytes, DESERIALIZE_OPTIONS);
  return { id: canonicalHash(doc._id), doc: canonicalHash(doc) };
}

function rawHashes(bytes: Uint8Array): RawHashes | undefined {
  const out = { id: 0n, doc: 0n };
  return rawCanonicalHashes(bytes, out) ? out : undefined;
}

describe('canonical hashes straight from BSON bytes', () => {
  it('equal the hashes of the decoded document for generated documents of every type, and decline few', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        let handled = 0;
        let total = 0;
        for (const { doc } of generateNastyDocuments(seed, 40, { longStringLength: 300 })) {
          const bytes = BSON.serialize(doc);
          let expected: RawHashes;
          try {
            expected = decodedHashes(bytes);
          } catch {
            // The decoder refuses it (a reject): the raw path must decline it too.
            expect(rawHashes(bytes)).toBeUndefined();
            continue;
          }
          total++;
          const raw = rawHashes(bytes);
          if (raw === undefined) continue;
          handled++;
          expect(raw).toEqual(expected);
        }
        // Nasty documents hold regexes, code and symbols on purpose; most must still be hashed raw.
        expect(handled).toBeGreaterThan(total / 3);
      }),
      { numRuns: 40 },
    );
  });

  it('writes numbers of every BSON type, dates, binaries, timestamps and min/max keys as the decoder sees them', () => {
    const doc = {
      _id: new ObjectId('5bd761dcae323e45a93ccfe8'),
      int: new Int32(-7),
      double: new Double(0.1),
      negativeZero: new Double(-0),
      nan: new Double(Number.NaN),
      small: Long.fromString('-9007199254740991'),
      big: Long.fromString('9223372036854775807'),
      money: Decimal128.fromString('1234.5600'),
      when: new Date('2024-02-29T12:34:56.789Z'),
      epoch: new Date(0),
      beforeEpoch: new Date(-123456789),
      uuid: new Binary(Buffer.alloc(16, 7), 4),
      bytes: new Binary(Buffer.from('héllo'), 0),
      ts: new Timestamp({ t: 1700000000, i: 3 }),
      min: new MinKey(),
      max: new MaxKey(),
      nothing: null,
      flags: [true, false],
      nested: { z: 1, a: { y: 'ünïcødé ✓ 𝄞', b: [] }, A: {} },
    };
    const bytes = BSON.serialize(doc);
    expect(rawHashes(bytes)).toEqual(decodedHashes(bytes));
  });

  it('hashes a date beyond the time range as the Invalid Date the decoder makes of it', () => {
    const bytes = Buffer.from(BSON.serialize({ _id: 1, when: new Date(0) }));
    const at = bytes.indexOf(Buffer.from('when\u0000')) + 5;
    bytes.writeBigInt64LE(9_000_000_000_000_000n, at);
    expect(rawHashes(bytes)).toEqual(decodedHashes(bytes));
  });

  it('gives a document without _id the id hash of undefined, as the decoded path does', () => {
    const bytes = BSON.serialize({ a: 1 });
    expect(rawHashes(bytes)).toEqual(decodedHashes(bytes));
  });

  it('sorts keys whatever their order in the bytes, so reordered documents hash equal', () => {
    const a = rawHashes(BSON.serialize({ _id: 1, b: 2, a: { d: 1, c: 2 }, aa: 3 }));
    const b = rawHashes(BSON.serialize({ aa: 3, a: { c: 2, d: 1 }, b: 2, _id: 1 }));
    expect(a).toEqual(b);
  });

  it('sorts non-ASCII keys by UTF-16 units as the object encoder does, not by their UTF-8 bytes', () => {
    // U+FF5E and U+1F525: EF BD 9E < F0 9F 94 A5 in UTF-8, but FF5E > D83D in UTF-16 units,
    // so the two orders disagree on exactly this pair.
    const bytes = BSON.serialize({ _id: 1, reactions: { '～': 1, '🔥': 2, clé: 3, a: 4, '❤️': 5 } });
    expect(rawHashes(bytes)).toEqual(decodedHashes(bytes));
  });

  it('declines what only the decoder reads exactly: keys not in UTF-8, DBRefs, duplicate keys, bad UTF-8, old binary', () => {
    const badKey = Buffer.from(BSON.serialize({ _id: 1, clé: 1 }));
    badKey[badKey.indexOf(0xa9)] = 0x28;
    expect(rawHashes(badKey)).toBeUndefined();
    expect(rawHashes(BSON.serialize({ _id: 1, ref: { $ref: 'users', $id: 5 } }))).toBeUndefined();
    expect(rawHashes(BSON.serialize({ _id: 1, old: new Binary(Buffer.from('ab'), 2) }))).toBeUndefined();
    const duplicated = Buffer.from(BSON.serialize({ _id: 1, ab: 1, ac: 2 }));
    duplicated.write('ab', duplicated.indexOf(Buffer.from('ac\u0000')), 'latin1');
    expect(rawHashes(duplicated)).toBeUndefined();
    const badUtf8 = Buffer.from(BSON.serialize({ _id: 1, s: 'héllo' }));
    badUtf8[badUtf8.indexOf(0xa9)] = 0x28; // 0xC3 0x28: an invalid sequence
    expect(() => BSON.deserialize(badUtf8, DESERIALIZE_OPTIONS)).toThrow();
    expect(rawHashes(badUtf8)).toBeUndefined();
  });

  it('declines a truncated or mis-sized frame instead of reading past it', () => {
    const bytes = Buffer.from(BSON.serialize({ _id: 1, a: { b: 'text' } }));
    expect(rawHashes(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    const lying = Buffer.from(bytes);
    lying.writeInt32LE(200, lying.indexOf(Buffer.from('a\u0000')) + 2);
    expect(rawHashes(lying)).toBeUndefined();
  });
});
