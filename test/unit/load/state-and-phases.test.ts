import { Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { prepareChunk } from '../../../src/load/chunk.js';
import { advance, isFinal } from '../../../src/load/collection-phase.js';
import { positionFromJson, positionToJson } from '../../../src/load/state-store.js';
import { customers, plan } from '../../integration/load/support.js';

describe('collection phases', () => {
  it('walk checking → loading → completing → after-load → done', () => {
    let phase = advance('checking', 'loading');
    phase = advance(phase, 'loading');
    phase = advance(phase, 'completing');
    phase = advance(phase, 'after-load');
    expect(advance(phase, 'done')).toBe('done');
    expect(isFinal('done')).toBe(true);
  });

  it('refuse to load a collection that has finished', () => {
    expect(() => advance('done', 'loading')).toThrow(/no transition from done to loading/);
    expect(() => advance('checking', 'completing')).toThrow();
  });
});

describe('checkpoint positions', () => {
  it.each([
    ['an ObjectId', new ObjectId('65a1b2c3d4e5f60718293a4b')],
    ['an Int32', new Int32(7)],
    ['a Long beyond 2^53', Long.fromString('9007199254740993')],
    ['a string', 'user-1'],
  ])('keep %s _id with its exact type through jsonb', (_, id) => {
    const json = JSON.parse(JSON.stringify(positionToJson({ kind: 'id', id })));
    const back = positionFromJson(json);
    expect(back.kind).toBe('id');
    const restored = (back as { id: unknown }).id;
    expect(restored).toEqual(id);
    expect(Object.getPrototypeOf(restored)).toBe(Object.getPrototypeOf(id));
  });

  it('keep file offsets as numbers', () => {
    const position = { kind: 'offset', offset: 123456789, index: 42 } as const;
    expect(positionFromJson(JSON.parse(JSON.stringify(positionToJson(position))))).toEqual(position);
  });
});

describe('prepareChunk', () => {
  it('counts every document read as either prepared or rejected', () => {
    const docs = customers(5);
    docs[2] = { ...docs[2], name: 'a\u0000b' };
    const chunk = prepareChunk(plan, {
      collection: 'customers',
      docs,
      rejects: [
        {
          collection: 'customers',
          raw: new Uint8Array([1, 2]),
          code: 'SOURCE_BAD_DOCUMENT',
          reason: 'bad',
          where: { offset: 9 },
        },
      ],
      position: { kind: 'offset', offset: 10, index: 6 },
      bytes: 10,
    });
    expect(chunk.read).toBe(6);
    expect(chunk.docs.count).toBe(4);
    expect(chunk.rejects.map((r) => [r.stage, r.code, r.rawEncoding])).toEqual([
      ['read', 'SOURCE_BAD_DOCUMENT', 'base64'],
      ['transform', 'STRING_CONTAINS_NUL', 'ejson'],
    ]);
  });
});
