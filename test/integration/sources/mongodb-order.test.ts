import { Decimal128, Double, Int32, MaxKey, MinKey, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import {
  ALL_TYPE_ALIASES,
  bracketOf,
  idIntervalFilter,
  normalizeIndex,
  parseMongoUri,
} from '../../../src/sources/mongodb/index.js';

// Pure checks of the pieces FerretDB 1.24 cannot exercise (TTL and partial indexes, MinKey,
// NaN, Decimal128 ids). The listIndexes entries are MongoDB 7's own output.
describe('normalising MongoDB index definitions', () => {
  it('keeps TTL, sparse and partial options in their own fields and drops the version', () => {
    expect(
      normalizeIndex({
        v: new Int32(2),
        key: { at: new Int32(1) },
        name: 'at_1',
        expireAfterSeconds: new Int32(3600),
      }),
    ).toEqual({ name: 'at_1', key: { at: 1 }, expireAfterSeconds: 3600 });
    expect(normalizeIndex({ v: 2, key: { nick: 1 }, name: 'nick_1', sparse: true })).toEqual({
      name: 'nick_1',
      key: { nick: 1 },
      sparse: true,
    });
    const partial = { qty: { $gt: 5 } };
    expect(
      normalizeIndex({ v: 2, key: { qty: -1 }, name: 'q', partialFilterExpression: partial, unique: true }),
    ).toEqual({
      name: 'q',
      key: { qty: -1 },
      unique: true,
      partialFilterExpression: partial,
    });
  });

  it('keeps options it does not know verbatim', () => {
    const text = {
      v: 2,
      key: { _fts: 'text', _ftsx: 1 },
      name: 'body_text',
      weights: { body: 1 },
      default_language: 'english',
      language_override: 'language',
      textIndexVersion: 3,
    };
    expect(normalizeIndex(text)).toEqual({
      name: 'body_text',
      key: { _fts: 'text', _ftsx: 1 },
      options: {
        weights: { body: 1 },
        default_language: 'english',
        language_override: 'language',
        textIndexVersion: 3,
      },
    });
  });
});

describe('reading the database out of a MongoDB URI', () => {
  it('finds the database, the hosts and whether credentials were given, keeping no password', () => {
    expect(parseMongoUri('mongodb://u:p%40ss@db1:27017,db2/shop?replicaSet=rs0')).toEqual({
      hosts: 'db1:27017,db2',
      database: 'shop',
      withCredentials: true,
    });
    expect(parseMongoUri('mongodb+srv://cluster.example.net/?retryWrites=true')).toEqual({
      hosts: 'cluster.example.net',
      withCredentials: false,
    });
    expect(parseMongoUri('mongodb://localhost')).toEqual({ hosts: 'localhost', withCredentials: false });
  });
});

describe('filters for an _id interval across BSON types', () => {
  it('orders brackets as MongoDB does: MinKey, null, numbers, strings, objects, … ObjectId, bool, date, MaxKey', () => {
    const values = [
      new MinKey(),
      null,
      new Decimal128('1.5'),
      'a',
      { a: 1 },
      new ObjectId(),
      true,
      new Date(),
      new MaxKey(),
    ];
    const brackets = values.map(bracketOf);
    expect(brackets).toEqual([...brackets].sort((a, b) => a - b));
    expect(new Set(brackets).size).toBe(values.length);
  });

  it('continues after a number with the larger numbers and then every later type', () => {
    expect(idIntervalFilter({ lower: { id: new Int32(5), inclusive: false } }, ALL_TYPE_ALIASES)).toEqual({
      $or: [
        { _id: { $gt: new Int32(5) } },
        { _id: { $type: ALL_TYPE_ALIASES.slice(ALL_TYPE_ALIASES.indexOf('string')) } },
      ],
    });
  });

  it('continues after NaN with every other number, because NaN sorts first but compares with nothing', () => {
    const filter = idIntervalFilter({ lower: { id: new Double(Number.NaN), inclusive: false } }, [
      'number',
      'string',
    ]);
    expect(filter).toEqual({
      $or: [{ _id: { $gte: Number.NEGATIVE_INFINITY } }, { _id: { $type: ['string'] } }],
    });
  });

  it('matches MinKey and MaxKey by type, not by value', () => {
    expect(idIntervalFilter({ lower: { id: new MinKey(), inclusive: true } }, ['minKey', 'null'])).toEqual({
      _id: { $type: ['minKey', 'null'] },
    });
    expect(idIntervalFilter({ upper: { id: new MaxKey() } }, ['null', 'maxKey'])).toEqual({
      _id: { $type: ['null'] },
    });
  });

  it('leaves out the types the server does not know, and matches nothing past the last one', () => {
    expect(idIntervalFilter({ lower: { id: new MaxKey(), inclusive: false } }, ALL_TYPE_ALIASES)).toEqual({
      _id: { $in: [] },
    });
    const ferret = ALL_TYPE_ALIASES.filter((a) => !['symbol', 'maxKey'].includes(a));
    expect(idIntervalFilter({ lower: { id: 'm', inclusive: true } }, ferret)).toEqual({
      $or: [{ _id: { $gte: 'm' } }, { _id: { $type: ferret.slice(ferret.indexOf('object')) } }],
    });
  });

  it('joins a range start and end with $and', () => {
    const filter = idIntervalFilter({ lower: { id: 'a', inclusive: true }, upper: { id: 'b' } }, [
      'null',
      'string',
      'bool',
    ]);
    expect(filter).toEqual({
      $and: [
        { $or: [{ _id: { $gte: 'a' } }, { _id: { $type: ['bool'] } }] },
        { $or: [{ _id: { $lt: 'b' } }, { _id: { $type: ['null'] } }] },
      ],
    });
  });
});
