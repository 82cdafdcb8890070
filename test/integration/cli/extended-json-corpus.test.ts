import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_PARSE_ERRORS, CORPUS_VALID } from '../../fixtures/bson-corpus.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';

/**
 * MongoDB's BSON corpus through `ferry migrate` of one Extended JSON lines file, as a user who
 * exported with mongoexport would run it: every parse error of the corpus is rejected with its
 * file and line, never loaded as part of a value; the valid cases around them all load.
 */
const available = postgresUrl() !== undefined;

/** The corpus text with an `_id` first, so each line is a document of its own. */
function withId(id: number, text: string): string {
  return text.replace(/^\{/, `{"_id": ${id}, `);
}

interface Reject {
  docId: string | null;
  stage: string;
  code: string;
  reason: string;
  file: string | null;
  line: number | null;
  offset: number | null;
}

describe.skipIf(!available)('ferry migrate of the BSON corpus as Extended JSON lines', () => {
  let url: string;
  let drop: () => Promise<void>;
  let cwd: string;
  const badLines = new Map<number, string>();
  const goodLines: number[] = [];
  let migrated: Awaited<ReturnType<typeof runFerry>>;

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('ejson_corpus'));
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-corpus-'));
    // Good line, bad line, good line, …: a bad line must take nothing around it with it.
    const lines: string[] = [];
    let id = 0;
    const valid = [...CORPUS_VALID];
    for (const [description, text] of CORPUS_PARSE_ERRORS) {
      const [, goodText] = valid[id % valid.length]!;
      lines.push(withId(++id, goodText));
      goodLines.push(lines.length);
      lines.push(withId(++id, text));
      badLines.set(lines.length, description);
    }
    for (const [, text] of valid) {
      lines.push(withId(++id, text));
      goodLines.push(lines.length);
    }
    await writeFile(path.join(cwd, 'corpus.json'), `${lines.join('\n')}\n`);
    migrated = await runFerry(['migrate', 'corpus.json', '--target', url, '--yes', '--json'], { cwd });
  });
  afterAll(async () => {
    await drop?.();
  });

  it('rejects every corpus parse error with its file and line, and loads no part of it', async () => {
    expect(migrated.code, migrated.stderr).not.toBe(2);
    const listed = await runFerry(['rejects', 'list', '--target', url, '--json'], { cwd });
    expect(listed.code, listed.stderr).toBe(0);
    const { rejects } = JSON.parse(listed.stdout) as { rejects: Reject[] };
    const byLine = new Map(rejects.map((r) => [r.line, r]));
    for (const [line, description] of badLines) {
      const reject = byLine.get(line);
      expect(reject, `${description} (line ${line}) was loaded`).toBeDefined();
      expect(reject).toMatchObject({ stage: 'read', code: 'SOURCE_BAD_JSON_LINE' });
      expect(reject!.file).toMatch(/corpus\.json$/);
      expect(reject!.offset).toBeGreaterThan(0);
    }
    expect(rejects).toHaveLength(badLines.size);
  });

  it('loads every good line around the bad ones, and the rebuilt documents match the source', async () => {
    const [count] = await sql<{ n: string }>(url, 'select count(*) as n from public.corpus');
    expect(Number(count!.n)).toBe(goodLines.length);
    const summary = JSON.parse(migrated.stdout) as {
      verify: { collections: { compared: number; matched: number; content: number; missing: number }[] }[];
    };
    expect(summary.verify[0]!.collections[0]).toMatchObject({
      compared: goodLines.length,
      matched: goodLines.length,
      content: 0,
      missing: 0,
    });
  });

  it('names the file and line of each reject in the migrate output and in rejects show', async () => {
    const [firstBad] = badLines.keys();
    const summary = JSON.parse(migrated.stdout) as {
      backfill: { collections: { rejectSamples: Reject[] }[] };
    };
    expect(summary.backfill.collections[0]!.rejectSamples[0]).toMatchObject({
      line: firstBad,
      file: expect.stringMatching(/corpus\.json$/),
    });
    const listed = await runFerry(['rejects', 'list', '--target', url], { cwd });
    expect(listed.stdout).toContain(`line ${firstBad}`);
    const { rejects } = JSON.parse(
      (await runFerry(['rejects', 'list', '--target', url, '--json'], { cwd })).stdout,
    ) as { rejects: (Reject & { id: number })[] };
    const shown = await runFerry(['rejects', 'show', String(rejects[0]!.id), '--target', url], { cwd });
    expect(shown.stdout).toMatch(new RegExp(`source: file .*corpus\\.json, line ${firstBad}, offset \\d+`));
  });
});
