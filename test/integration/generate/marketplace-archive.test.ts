import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMarketplace, MARKETPLACE_DB, writeMarketplaceArchive } from '../../../src/generate/index.js';
import { canonicalEqual } from '../../../src/mapping/canonical/index.js';
import { openArchiveSource } from '../../../src/sources/archive/archive-source.js';

const SEED = 20240601;
const SCALE = 3_000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-marketplace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the marketplace archive', () => {
  it.each([false, true])(
    'reads back through openArchiveSource with the same counts, documents and indexes and no rejects (gzip %s)',
    async (gzip) => {
      const file = path.join(dir, `marketplace${gzip ? '.archive.gz' : '.archive'}`);
      const written = await writeMarketplaceArchive(file, { seed: SEED, scale: SCALE, gzip });
      const generated = generateMarketplace({ seed: SEED, scale: SCALE });
      expect(Object.fromEntries(written.map((w) => [w.name, w.documents]))).toEqual(
        Object.fromEntries(generated.map((c) => [c.name, c.count])),
      );

      const source = await openArchiveSource(file);
      try {
        const collections = await source.listCollections();
        expect(collections.map((c) => c.name).sort()).toEqual(generated.map((c) => c.name).sort());
        for (const c of collections) expect(c.database).toBe(MARKETPLACE_DB);
        const ttl = collections
          .find((c) => c.name === 'notifications')
          ?.indexes.find((i) => i.name === 'expiresAt_1');
        expect(ttl?.expireAfterSeconds).toBe(0);
        const unique = collections.find((c) => c.name === 'users')?.indexes.find((i) => i.name === 'email_1');
        expect(unique?.unique).toBe(true);

        const expected = new Map<string, Iterator<Document>>(
          generated.map((c) => [c.name, c.docs()[Symbol.iterator]()]),
        );
        const read = new Map<string, number>();
        let rejects = 0;
        for await (const batch of source.readAll({ batchSize: 500 })) {
          rejects += batch.rejects.length;
          read.set(batch.collection, (read.get(batch.collection) ?? 0) + batch.docs.length);
          // Within a collection the archive keeps generation order, so the streams line up.
          const iterator = expected.get(batch.collection);
          for (const doc of batch.docs) {
            const next = iterator?.next();
            expect(next?.done).toBe(false);
            if (!canonicalEqual(doc, next?.value))
              throw new Error(`${batch.collection} ${String(doc._id)} differs after the round trip`);
          }
        }
        expect(rejects).toBe(0);
        expect(Object.fromEntries(read)).toEqual(Object.fromEntries(generated.map((c) => [c.name, c.count])));
      } finally {
        await source.close();
      }
    },
  );
});
