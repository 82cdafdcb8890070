import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { writeArchive } from '../../../src/sources/archive/write-archive.js';
import { openSource } from '../../../src/sources/open.js';
import { openTarget } from '../../../src/target/open-target.js';
import type {
  TargetCapabilities,
  TargetDatabase,
  TargetTransaction,
} from '../../../src/target/target-database.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { customers, orders, plan, sql } from './support.js';

/**
 * The backfill picks binary COPY from what the target declares it can do, never from which
 * database it is: a target is free to say no, whatever its kind.
 */
const available = postgresUrl() !== undefined;

/**
 * The real target with other capabilities declared, recording the format of every COPY that
 * passes through it. Every statement still runs on the real database.
 */
function declaring(db: TargetDatabase, capabilities: TargetCapabilities, formats: string[]): TargetDatabase {
  const recording = (tx: TargetTransaction): TargetTransaction => ({
    query: <R>(text: string, params?: readonly unknown[]) => tx.query<R>(text, params),
    runScript: (text) => tx.runScript(text),
    copyFrom: (table, columns, rows, options) => {
      formats.push('text');
      return tx.copyFrom(table, columns, rows, options);
    },
    copyText: (table, columns, text, options) => {
      formats.push(options?.format ?? 'text');
      return tx.copyText(table, columns, text, options);
    },
  });
  return {
    kind: db.kind,
    location: db.location,
    capabilities,
    query: <R>(text: string, params?: readonly unknown[]) => db.query<R>(text, params),
    transaction: (fn) => db.transaction((tx) => fn(recording(tx))),
    acquire: async () => {
      const session = await db.acquire();
      return {
        query: <R>(text: string, params?: readonly unknown[]) => session.query<R>(text, params),
        transaction: (fn) => session.transaction((tx) => fn(recording(tx))),
        release: () => session.release(),
      };
    },
    close: () => db.close(),
  };
}

describe('target capabilities', () => {
  it('a PostgreSQL server declares binary COPY and the embedded PGlite does not', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ferry-capabilities-'));
    try {
      const embedded = await openTarget(undefined, { embeddedDir: path.join(dir, 'pglite') });
      try {
        expect(embedded.capabilities).toEqual({ binaryCopy: false });
      } finally {
        await embedded.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!available)('against PostgreSQL', () => {
    let url: string;
    let drop: () => Promise<void>;
    let db: TargetDatabase;
    let archive: string;

    beforeAll(async () => {
      ({ url, drop } = await createTestDatabase('load_capabilities'));
      db = await openTarget(url);
      archive = path.join(await mkdtemp(path.join(tmpdir(), 'ferry-capabilities-')), 'shop.archive');
      await writeArchive(archive, 'shop', [
        { name: 'customers', docs: customers(10) },
        { name: 'orders', docs: orders(200) },
      ]);
    });
    afterAll(async () => {
      await db?.close();
      await drop?.();
    });

    it('declares binary COPY', () => {
      expect(db.capabilities).toEqual({ binaryCopy: true });
    });

    for (const binaryCopy of [true, false]) {
      it(`backfills in ${binaryCopy ? 'binary' : 'text'} COPY when the target declares binaryCopy: ${binaryCopy}`, async () => {
        const formats: string[] = [];
        const schema = binaryCopy ? 'declares_binary' : 'declares_text';
        const source = await openSource(archive);
        try {
          const summary = await backfill({
            source,
            target: declaring(db, { binaryCopy }, formats),
            plan,
            schemas: [schema],
          });
          expect(summary.collections.map((c) => [c.collection, c.migrated, c.rejected])).toEqual(
            expect.arrayContaining([
              ['customers', 10, 0],
              ['orders', 200, 0],
            ]),
          );
        } finally {
          await source.close();
        }
        expect(formats.length).toBeGreaterThan(0);
        expect(new Set(formats)).toEqual(new Set([binaryCopy ? 'binary' : 'text']));
        const [row] = await sql<{ n: string }>(url, `select count(*) as n from ${schema}.orders`);
        expect(Number(row?.n)).toBe(200);
      });
    }
  });
});
