import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAMAGED_BSON_FIXTURES,
  fixtureId,
  writeDamagedBsonFixtures,
} from '../../../scripts/fixtures/damaged-bson.js';
import { FerryError } from '../../../src/core/errors.js';
import { openArchiveSource } from '../../../src/sources/archive/archive-source.js';
import { openDumpSource } from '../../../src/sources/dump/dump-source.js';
import type { Source, SourceBatch } from '../../../src/sources/types.js';

let dir: string;
const file = (name: string) => path.join(dir, name);

async function drain(source: Source): Promise<SourceBatch[]> {
  const batches: SourceBatch[] = [];
  for await (const batch of source.readAll({ batchSize: 2 })) batches.push(batch);
  return batches;
}

async function failure(promise: Promise<unknown>): Promise<FerryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('damaged mongodump inputs', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-damaged-bson-'));
    await writeDamagedBsonFixtures(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports an archive cut inside a document as truncated at that document, not as a shorter collection', async () => {
    const source = await openArchiveSource(file(DAMAGED_BSON_FIXTURES.truncatedArchive));
    const error = await failure(drain(source));
    expect(error.code).toBe('SOURCE_TRUNCATED');
    expect(error.where).toMatchObject({
      file: file(DAMAGED_BSON_FIXTURES.truncatedArchive),
      collection: 'shop.orders',
    });
    // The fixture cuts 20 bytes into an 81-byte document: the error points at its start.
    const bytes = await readFile(file(DAMAGED_BSON_FIXTURES.truncatedArchive));
    expect(error.where.offset).toBe(bytes.length - 20);
    expect(bytes.readInt32LE(error.where.offset!)).toBe(81);
    await expect(source.countDocuments('orders')).rejects.toMatchObject({ code: 'SOURCE_TRUNCATED' });
  });

  it('reports an archive cut cleanly between blocks as truncated, naming the unfinished collection', async () => {
    const location = file(DAMAGED_BSON_FIXTURES.truncatedAtBoundaryArchive);
    const source = await openArchiveSource(location);
    const error = await failure(drain(source));
    expect(error.code).toBe('SOURCE_TRUNCATED');
    expect(error.where).toMatchObject({ file: location, collection: 'shop.orders' });
    expect(error.where.offset).toBe((await stat(location)).size);
  });

  it('reports a gzipped archive cut in half as a bad gzip stream with how far it could be read', async () => {
    const location = file(DAMAGED_BSON_FIXTURES.truncatedGzipArchive);
    const source = await openArchiveSource(location);
    const error = await failure(drain(source));
    expect(error.code).toBe('SOURCE_BAD_GZIP');
    expect(error.where.file).toBe(location);
    expect(error.where.offset).toBeGreaterThan(0);
    expect(error.message).toContain('unexpected end of file');
  });

  it('stops at a corrupt length prefix with an error naming the file, offset and collection', async () => {
    const location = file(DAMAGED_BSON_FIXTURES.corruptLengthBson);
    const source = await openDumpSource(location);
    const error = await failure(drain(source));
    expect(error.code).toBe('SOURCE_CORRUPT_LENGTH');
    expect(error.where).toEqual({ file: location, offset: 5 * 81, collection: 'bson-corrupt-length' });
    expect(error.message).toContain('2147483647');
  });

  it('rejects an undecodable document with its _id and raw bytes, and reads the documents around it', async () => {
    const location = file(DAMAGED_BSON_FIXTURES.badDocumentBson);
    const source = await openDumpSource(location);
    const batches = await drain(source);
    const docs = batches.flatMap((b) => b.docs);
    const rejects = batches.flatMap((b) => b.rejects);
    expect(docs.map((d) => d._id.toHexString())).toEqual([0, 1, 3, 4].map((i) => fixtureId(i).toHexString()));
    expect(rejects).toHaveLength(1);
    const [reject] = rejects;
    expect(reject).toMatchObject({ code: 'SOURCE_BAD_DOCUMENT', collection: 'bson-bad-document' });
    expect(reject!.where).toEqual({
      file: location,
      offset: 2 * 81,
      collection: 'bson-bad-document',
      id: `{"$oid":"${fixtureId(2).toHexString()}"}`,
    });
    expect((reject!.id as { toHexString(): string }).toHexString()).toBe(fixtureId(2).toHexString());
    expect(reject!.raw).toHaveLength(81);
    expect(await source.countDocuments('bson-bad-document')).toBe(5);
  });

  it('rejects a document over 16 MiB and carries on with the next one', async () => {
    const location = file(DAMAGED_BSON_FIXTURES.oversizedDocumentBson);
    const source = await openDumpSource(location);
    const batches = await drain(source);
    expect(batches.flatMap((b) => b.docs)).toHaveLength(3);
    const rejects = batches.flatMap((b) => b.rejects);
    expect(rejects).toHaveLength(1);
    // Compared field by field: a failing match on a 16 MiB `raw` would take ages to print.
    expect(rejects[0]!.code).toBe('SOURCE_DOC_TOO_LARGE');
    expect(rejects[0]!.collection).toBe('bson-oversized-document');
    expect(rejects[0]!.where).toMatchObject({
      file: location,
      offset: 2 * 81,
      collection: 'bson-oversized-document',
    });
    expect(rejects[0]!.raw.length).toBeGreaterThan(16 * 1024 * 1024);
    expect(String(rejects[0]!.where.id)).toContain(fixtureId(999).toHexString());
  });

  it('refuses a dump whose metadata is not JSON, naming the metadata file', async () => {
    const location = file(DAMAGED_BSON_FIXTURES.badMetadataDump);
    const error = await failure(openDumpSource(location));
    expect(error.code).toBe('SOURCE_BAD_METADATA');
    expect(error.where.file).toBe(path.join(location, 'shop', 'orders.metadata.json'));
    expect(error.category).toBe('input');
  });

  it('writes byte-identical fixtures every time', async () => {
    const again = await mkdtemp(path.join(tmpdir(), 'ferry-damaged-bson-'));
    try {
      await writeDamagedBsonFixtures(again);
      for (const name of Object.values(DAMAGED_BSON_FIXTURES).filter((n) => !n.startsWith('dump'))) {
        expect(await readFile(path.join(again, name))).toEqual(await readFile(file(name)));
      }
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});
