import path from 'node:path';
import { describe, expect } from 'vitest';
import { backfill } from '../../../src/load/backfill.js';
import { openSource } from '../../../src/sources/open.js';
import { test } from '../../support/fixtures.js';
import { col, objectIdColumn, onePlan, table } from '../../support/plans.js';
import { postgresUrl, repoRoot } from '../../support/services.js';
import { sql } from './support.js';

/**
 * The committed damaged-input corpus (see test/integration/cli/damaged-inputs.test.ts) through
 * the backfill: every good document loaded, each damaged one in `ferry.rejects` with stage
 * `read`, its code, its raw bytes or text, and `migrated + rejected = read`.
 */
const corpus = path.join(repoRoot, 'test/fixtures/damaged');
const available = postgresUrl() !== undefined;

function planFor(collection: string) {
  return onePlan(collection, [
    table(collection.replaceAll('-', '_'), [
      objectIdColumn,
      col('n', ['n'], 'integer', 'int'),
      col('name', ['name'], 'text', 'string'),
    ]),
  ]);
}

describe.skipIf(!available)('backfill of the damaged-input corpus', () => {
  test.for<[string, string, number, string, string]>([
    ['bson/bson-bad-document.bson', 'bson-bad-document', 4, 'SOURCE_BAD_DOCUMENT', 'base64'],
    ['bson/bson-oversized-document.bson.gz', 'bson-oversized-document', 3, 'SOURCE_DOC_TOO_LARGE', 'base64'],
    ['json/bad-line.json', 'bad-line', 4, 'SOURCE_BAD_JSON_LINE', 'text'],
    ['json/bad-utf8.json', 'bad-utf8', 2, 'SOURCE_BAD_UTF8', 'base64'],
    ['json/too-large.json.gz', 'too-large', 2, 'SOURCE_DOC_TOO_LARGE', 'text'],
  ])(
    'loads the good documents of %s and rejects its one bad document at the read stage',
    async ([relative, collection, good, code, encoding], { db, pgUrl: url }) => {
      const source = await openSource(path.join(corpus, relative));
      const schema = collection.replaceAll('-', '_');
      const summary = await backfill({
        source,
        target: db,
        plan: planFor(collection),
        schemas: [schema],
        batchSize: 2,
      });
      await source.close();
      // Loaded what it could, but a document is missing: not a success.
      expect(summary).toMatchObject({ ok: false, rejected: 1, rejectsOverLimit: false });
      expect(summary.collections[0]).toMatchObject({
        phase: 'done',
        read: good + 1,
        migrated: good,
        rejected: 1,
      });
      const [count] = await sql<{ n: string }>(url, `select count(*) as n from "${schema}"."${schema}"`);
      expect(Number(count?.n)).toBe(good);
      const rejects = await sql<{
        stage: string;
        code: string;
        doc_id: string | null;
        raw_encoding: string;
        reason: string;
      }>(url, 'select stage, code, doc_id, raw_encoding, reason from ferry.rejects where schema = $1', [
        schema,
      ]);
      expect(rejects).toHaveLength(1);
      expect(rejects[0]).toMatchObject({ stage: 'read', code });
      // The damaged document's _id is recovered, so the user can find it in the source.
      expect(rejects[0]!.doc_id).toBeTruthy();
      expect(rejects[0]!.reason.length).toBeGreaterThan(0);
      // Bytes that never decoded are kept as base64; a text line PostgreSQL can store, as text.
      expect(rejects[0]!.raw_encoding).toBe(encoding);
    },
  );

  test('reports a truncated file as a failed collection, keeping what was committed before the damage', async ({
    db,
  }) => {
    const source = await openSource(path.join(corpus, 'json/truncated-array.json'));
    const summary = await backfill({
      source,
      target: db,
      plan: planFor('truncated-array'),
      schemas: ['truncated'],
      batchSize: 1,
    });
    await source.close();
    expect(summary.ok).toBe(false);
    const [only] = summary.collections;
    expect(only).toMatchObject({ phase: 'failed', error: { code: 'SOURCE_TRUNCATED' } });
    expect(only!.migrated + only!.rejected).toBe(only!.read);
  });
});
