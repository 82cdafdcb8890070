import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { repoRoot } from '../../support/services.js';

/**
 * The committed damaged-input corpus (regenerate with `npm run fixtures`) as a user meets it:
 * `ferry inspect --json` on each file. Damage confined to one document is a reject (exit 1,
 * the rest still counted); damage that makes the rest unreadable is an error (exit 2) that
 * names the file, the offset or line, and the collection. Never a silently shorter collection.
 */
const corpus = path.join(repoRoot, 'test/fixtures/damaged');
const fixture = (relative: string) => path.join(corpus, relative);

interface Inspection {
  error?: { code: string; message: string; where: Record<string, unknown> };
  collections?: {
    name: string;
    count: number;
    rejects: number;
    rejectSamples: { code: string; where: Record<string, unknown> }[];
  }[];
}

async function inspect(relative: string): Promise<{ code: number; report: Inspection }> {
  const result = await runFerry(['inspect', fixture(relative), '--json']);
  return { code: result.code, report: JSON.parse(result.stdout) as Inspection };
}

describe('ferry inspect on the damaged-input corpus', () => {
  it.each([
    ['bson/archive-truncated.archive', 'SOURCE_TRUNCATED', { offset: 1706, collection: 'shop.orders' }],
    ['bson/archive-cut-at-block.archive', 'SOURCE_TRUNCATED', { offset: 1953, collection: 'shop.orders' }],
    // The offset is within the compressed file (539 bytes, cut short), not the decompressed stream.
    ['bson/archive-truncated.archive.gz', 'SOURCE_BAD_GZIP', { offset: 539 }],
    [
      'bson/bson-corrupt-length.bson',
      'SOURCE_CORRUPT_LENGTH',
      { offset: 405, collection: 'bson-corrupt-length' },
    ],
    ['bson/dump-bad-metadata', 'SOURCE_BAD_METADATA', {}],
    [
      'json/truncated-array.json',
      'SOURCE_TRUNCATED',
      { line: 4, offset: 237, collection: 'truncated-array' },
    ],
    ['json/plain-syntax-error.json', 'SOURCE_BAD_JSON', { line: 3, offset: 47 }],
  ])('refuses %s with exit 2 and %s, naming where', async (relative, code, where) => {
    const { code: exit, report } = await inspect(relative);
    expect(exit).toBe(2);
    expect(report.error?.code).toBe(code);
    expect(report.error?.where).toMatchObject(where);
    expect(String(report.error?.where.file)).toContain(path.basename(relative));
  });

  it.each([
    ['bson/bson-bad-document.bson', 'bson-bad-document', 4, 'SOURCE_BAD_DOCUMENT', { offset: 162 }],
    [
      'bson/bson-oversized-document.bson.gz',
      'bson-oversized-document',
      3,
      'SOURCE_DOC_TOO_LARGE',
      { offset: 162 },
    ],
    ['json/bad-line.json', 'bad-line', 4, 'SOURCE_BAD_JSON_LINE', { line: 3, offset: 164 }],
    ['json/bad-utf8.json', 'bad-utf8', 2, 'SOURCE_BAD_UTF8', { line: 2, offset: 82 }],
    ['json/too-large.json.gz', 'too-large', 2, 'SOURCE_DOC_TOO_LARGE', { line: 2, offset: 82 }],
  ])(
    'counts the good documents of %s and reports its one bad document with exit 1',
    async (relative, collection, good, code, where) => {
      const { code: exit, report } = await inspect(relative);
      expect(exit).toBe(1);
      expect(report.collections).toHaveLength(1);
      const [only] = report.collections!;
      expect(only).toMatchObject({ name: collection, count: good, rejects: 1 });
      expect(only!.rejectSamples).toHaveLength(1);
      expect(only!.rejectSamples[0]).toMatchObject({ code, where: { ...where, collection } });
      // The damaged document's _id is recovered so a user can find it in the source.
      expect(only!.rejectSamples[0]!.where.id).toBeTruthy();
    },
  );
});
