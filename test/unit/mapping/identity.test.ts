import { ObjectId, UUID } from 'bson';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isObjectIdUuid, objectIdToUuid, uuidToObjectId } from '../../../src/mapping/identity.js';

const objectIdArb = fc.uint8Array({ minLength: 12, maxLength: 12 }).map((bytes) => new ObjectId(bytes));
/** Two ObjectIds sharing a prefix of 0 to 11 bytes, so same-second ids are compared too. */
const objectIdPair = fc
  .tuple(objectIdArb, objectIdArb, fc.integer({ min: 0, max: 11 }))
  .map(([a, b, shared]): [ObjectId, ObjectId] => {
    const bytes = Uint8Array.from(b.id);
    bytes.set(a.id.subarray(0, shared));
    return [a, new ObjectId(bytes)];
  });
/** RFC 9562 layout of a version 7 UUID with the RFC 4122 variant. */
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ObjectId ↔ UUID identity', () => {
  it('is pinned: this mapping is stored in users’ databases and must never change', () => {
    expect(objectIdToUuid('64b7f1c2a9e3d40012345678')).toBe('01896e88-5dd0-7fea-a9e3-d40012345678');
    expect(objectIdToUuid('000000000000000000000000')).toBe('00000000-0000-7fe0-a000-000000000000');
    expect(objectIdToUuid('ffffffffffffffffffffffff')).toBe('03e7ffff-fc18-7fef-afff-ffffffffffff');
    // The ObjectId path (bytes, not hex) gives the same strings.
    for (const hex of ['64b7f1c2a9e3d40012345678', '000000000000000000000000', 'ffffffffffffffffffffffff'])
      expect(objectIdToUuid(new ObjectId(hex))).toBe(objectIdToUuid(hex));
  });

  it('round-trips every ObjectId, from the object or its hex string', () => {
    fc.assert(
      fc.property(objectIdArb, (oid) => {
        const uuid = objectIdToUuid(oid);
        expect(objectIdToUuid(oid.toHexString())).toBe(uuid);
        expect(objectIdToUuid(oid.toHexString().toUpperCase())).toBe(uuid);
        expect(uuidToObjectId(uuid).toHexString()).toBe(oid.toHexString());
        expect(uuidToObjectId(uuid.toUpperCase()).toHexString()).toBe(oid.toHexString());
      }),
      { numRuns: 2000 },
    );
  });

  it('produces a valid version 7 UUID whose timestamp is the ObjectId’s creation time', () => {
    fc.assert(
      fc.property(objectIdArb, (oid) => {
        const uuid = objectIdToUuid(oid);
        expect(uuid).toMatch(V7);
        expect(isObjectIdUuid(uuid)).toBe(true);
        const ms = Number.parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
        expect(ms).toBe(oid.getTimestamp().getTime());
        // bson's own UUID parser accepts it, too.
        expect(new UUID(uuid).toHexString()).toBe(uuid);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps ObjectId order as UUID string order (and so as PostgreSQL uuid order)', () => {
    fc.assert(
      fc.property(objectIdPair, ([a, b]) => {
        const [x, y] = [a.toHexString(), b.toHexString()];
        const byOid = x < y ? -1 : x > y ? 1 : 0;
        const left = objectIdToUuid(a);
        const right = objectIdToUuid(b);
        const byUuid = left < right ? -1 : left > right ? 1 : 0;
        expect(byUuid).toBe(byOid);
      }),
      { numRuns: 3000 },
    );
  });

  it('orders ObjectIds created later after earlier ones', () => {
    const early = ObjectId.createFromTime(1_600_000_000);
    const late = ObjectId.createFromTime(1_600_000_001);
    expect(objectIdToUuid(early) < objectIdToUuid(late)).toBe(true);
  });

  it('tells its own UUIDs from random v4 UUIDs and from ordinary v7 UUIDs', () => {
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), (uuid) => {
        expect(isObjectIdUuid(uuid)).toBe(false);
      }),
      { numRuns: 500 },
    );
    // A v7 with our marker but a timestamp that is not whole seconds was not made by us.
    expect(isObjectIdUuid('01896e88-5dd1-7fea-a9e3-d40012345678')).toBe(false);
    // A v7 with whole seconds but another marker was not either.
    expect(isObjectIdUuid('01896e88-5dd0-7abc-a9e3-d40012345678')).toBe(false);
    expect(isObjectIdUuid('01896e88-5dd0-7fea-b9e3-d40012345678')).toBe(false);
    expect(isObjectIdUuid('not a uuid')).toBe(false);
  });

  it('reads a UUID exactly as the pattern of its shape does, whatever single character is changed and whatever the case', () => {
    // The reference: the pattern the reader replaced, applied to the lower-cased UUID.
    const reference = (uuid: string): string | undefined => {
      const m = /^([0-9a-f]{8})-([0-9a-f]{4})-7fe([0-9a-f])-a([0-9a-f]{3})-([0-9a-f]{12})$/.exec(
        uuid.toLowerCase(),
      );
      if (!m) return undefined;
      const ms = Number.parseInt(m[1]! + m[2]!, 16);
      if (ms % 1000 !== 0 || ms / 1000 > 0xffffffff) return undefined;
      return (ms / 1000).toString(16).padStart(8, '0') + m[3]! + m[4]! + m[5]!;
    };
    const mutated = fc
      .tuple(
        objectIdArb,
        fc.integer({ min: 0, max: 35 }),
        fc.constantFrom(...'0123456789abcdefABCDEF-g 7'),
        fc.boolean(),
        fc.boolean(),
      )
      .map(([id, at, char, mutate, upper]) => {
        const uuid = objectIdToUuid(id);
        const changed = mutate ? uuid.slice(0, at) + char + uuid.slice(at + 1) : uuid;
        return upper ? changed.toUpperCase() : changed;
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uuid(), fc.string({ minLength: 36, maxLength: 36 })), (uuid) => {
        const expected = reference(uuid);
        expect(isObjectIdUuid(uuid)).toBe(expected !== undefined);
        if (expected !== undefined) expect(uuidToObjectId(uuid).toHexString()).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    // Time bits that are whole seconds beyond 32 bits are not an ObjectId's.
    expect(isObjectIdUuid('ffffffff-f000-7fea-a9e3-d40012345678')).toBe(
      reference('ffffffff-f000-7fea-a9e3-d40012345678') !== undefined,
    );
  });

  it('refuses to turn a foreign UUID or a malformed ObjectId into the other', () => {
    expect(() => uuidToObjectId('0f8fad5b-d9cb-469f-a165-70867728950e')).toThrow(
      expect.objectContaining({ code: 'IDENTITY_NOT_OBJECTID_UUID' }),
    );
    expect(() => objectIdToUuid('64b7f1c2a9e3d4001234567')).toThrow(
      expect.objectContaining({ code: 'IDENTITY_NOT_OBJECTID' }),
    );
  });
});
