import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, datasetPath, postgresUrl, repoRoot } from '../../support/services.js';

/**
 * "Success means complete" (issue 11), as a user met it on the real sales archive: a mapping
 * edit that rejects every document must not end in exit 0, in "OK" from verify, nor in
 * "passed" from status. Rejected documents are accounted for, not loaded, and say so.
 */
const archive = datasetPath('sample_supplies.archive.gz');
const url = postgresUrl();

const NUMERIC_PRICE = `{ name: 'price', path: ['price'], pgType: 'numeric', sourceType: 'decimal', nullable: false }`;
const INTEGER_PRICE = `{ name: 'price', path: ['price'], pgType: 'integer', sourceType: 'int', nullable: false }`;

describe.skipIf(!archive || !url)('a run with rejects is not a success', () => {
  let db: { url: string; drop: () => Promise<void> };
  let cwd: string;
  const ferry = (...args: string[]) => runFerry([...args, '--target', db.url], { cwd });

  beforeAll(async () => {
    db = await createTestDatabase('rejects_not_success');
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-complete-'));
    const inferred = await runFerry(['infer', archive!], { cwd });
    expect(inferred.code).toBe(0);
    const config = await readFile(path.join(cwd, 'ferry.config.ts'), 'utf8');
    expect(config).toContain(NUMERIC_PRICE);
    await writeFile(path.join(cwd, 'ferry.config.ts'), config.replace(NUMERIC_PRICE, INTEGER_PRICE));
    const applied = await ferry('schema', 'apply');
    expect(applied.code).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('backfill exits 1 when every document is rejected, and says the load is incomplete', async () => {
    const result = await ferry('backfill', '--force', '--yes');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/INCOMPLETE: 5000 document\(s\) rejected: accounted, not loaded/);
    const json = await ferry('backfill', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, rejected: 5000 });
  });

  it('verify gives the verdict "incomplete: 5000 rejected" with exit 1 over the empty table', async () => {
    const result = await ferry('verify');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/sales: 5000 rejected: accounted, not loaded/);
    expect(result.stdout).toMatch(/verify \(deep\): incomplete: 5000 rejected/);
    expect(result.stdout).not.toMatch(/\bOK\b/);
    const json = await ferry('verify', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, verdict: 'incomplete', rejected: 5000 });
  });

  it('status says the load and the last verify are incomplete, in text and in --json', async () => {
    const text = await ferry('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/load:\s+incomplete: 5000 rejected/);
    expect(text.stdout).toMatch(/last verify:.*incomplete: 5000 rejected/);
    expect(text.stdout).not.toMatch(/passed/);
    const json = JSON.parse((await ferry('status', '--json')).stdout);
    expect(json.load).toEqual({ verdict: 'incomplete', rejected: 5000 });
    expect(json.lastVerify).toMatchObject({ verdict: 'incomplete', rejected: 5000, ok: false });
  });

  it('verify --accept-rejects exits 0 and still names the rejects', async () => {
    const result = await ferry('verify', '--accept-rejects');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /verify \(deep\): incomplete: 5000 rejected \(accepted with --accept-rejects\)/,
    );
    const status = await ferry('status');
    expect(status.stdout).toMatch(/last verify:.*incomplete: 5000 rejected \(accepted\)/);
  });

  it('backfill --max-rejects tolerates as many rejects as it names, and no more', async () => {
    const within = await ferry('backfill', '--max-rejects', '5000');
    expect(within.code).toBe(0);
    expect(within.stdout).toMatch(
      /5000 document\(s\) rejected: accounted, not loaded \(within --max-rejects 5000;/,
    );
    const over = await ferry('backfill', '--max-rejects', '4999');
    expect(over.code).toBe(1);
  });

  it('a complete load verifies as "complete" with exit 0', async () => {
    const config = await readFile(path.join(cwd, 'ferry.config.ts'), 'utf8');
    const fixed = path.join(cwd, 'fixed.config.ts');
    await writeFile(fixed, config.replace(INTEGER_PRICE, NUMERIC_PRICE));
    const fixedDb = await createTestDatabase('rejects_not_success_fixed');
    try {
      const migrated = await runFerry(
        ['migrate', '--config', fixed, '--target', fixedDb.url, '--dir', 'fixed'],
        {
          cwd,
        },
      );
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toMatch(/verify \(deep\): complete, 1 collection\(s\) match/);
      const status = await runFerry(['status', '--json', '--target', fixedDb.url], { cwd });
      expect(JSON.parse(status.stdout)).toMatchObject({
        load: { verdict: 'complete', rejected: 0 },
        lastVerify: { verdict: 'complete', rejected: 0, ok: true },
      });
    } finally {
      await fixedDb.drop();
    }
  });
});

describe.skipIf(!url)('migrate with a damaged JSON line', () => {
  it('exits 1 when line 3 of an Extended JSON file is not JSON, naming the reject', async () => {
    const db = await createTestDatabase('rejects_bad_line');
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-bad-line-'));
    try {
      const file = path.join(cwd, 'bad-line.json');
      await copyFile(path.join(repoRoot, 'test/fixtures/damaged/json/bad-line.json'), file);
      const result = await runFerry(['migrate', file, '--target', db.url], { cwd });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/INCOMPLETE: 1 document\(s\) rejected/);
      expect(result.stdout).toMatch(/verify \(deep\): incomplete: 1 rejected/);
      expect(result.stderr).toMatch(/reject: bad-line .*SOURCE_BAD_JSON_LINE/);
    } finally {
      await db.drop();
    }
  });
});
