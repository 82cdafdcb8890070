import { existsSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, postgresUrl, repoRoot } from '../../support/services.js';

/**
 * Issue 11, "Exit codes and small things": bad usage and bad input exit 2 from every command
 * (a typo in an option, a URL that does not parse, an archive cut short), `--log-level
 * trace` logs, and `ferry status` in an empty folder creates nothing.
 */
const url = postgresUrl();
const truncatedGzip = path.join(repoRoot, 'test/fixtures/damaged/bson/archive-truncated.archive.gz');

const emptyCwd = () => mkdtemp(path.join(tmpdir(), 'ferry-exit-'));

describe('exit codes for bad usage and bad input', () => {
  it('an unknown option exits 2, on the program and on a command', async () => {
    expect((await runFerry(['--no-such-option', 'status'], { cwd: await emptyCwd() })).code).toBe(2);
    expect((await runFerry(['backfill', '--no-such-option'], { cwd: await emptyCwd() })).code).toBe(2);
  });

  it('a PostgreSQL URL that does not parse exits 2 (bad usage, not an unreachable server), without the password', async () => {
    const result = await runFerry(['status', '--target', 'postgres://app:Sup3rS3cret@host:notaport/db']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not a valid URL/);
    expect(result.stderr + result.stdout).not.toContain('Sup3rS3cret');
  });

  it('an unknown --log-level exits 2', async () => {
    const result = await runFerry(['status', '--log-level', 'loud'], { cwd: await emptyCwd() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown log level "loud"/);
  });
});

describe('ferry status in an empty folder', () => {
  it('says nothing was loaded, exits 0 and creates no database', async () => {
    const cwd = await emptyCwd();
    const result = await runFerry(['status'], { cwd, env: { DATABASE_URL: '' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/not created yet/);
    expect(result.stdout).toMatch(/ferry migrate <source>/);
    expect(await readdir(cwd)).toEqual([]);
    const json = await runFerry(['status', '--json'], { cwd, env: { DATABASE_URL: '' } });
    expect(JSON.parse(json.stdout)).toMatchObject({ ferryState: false, collections: [] });
    expect(existsSync(path.join(cwd, '.ferry'))).toBe(false);
  });
});

describe.skipIf(!url)('with a PostgreSQL target', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await createTestDatabase('exit_codes');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('--log-level trace logs trace and debug lines, with timings, as JSON when stderr is not a terminal', async () => {
    const result = await runFerry(['status', '--log-level', 'trace', '--target', db.url], {
      cwd: await emptyCwd(),
    });
    expect(result.code).toBe(0);
    const lines = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; ms?: number; command?: string });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 10, msg: 'command started', command: 'status' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 20, msg: 'target opened', ms: expect.any(Number) }),
    );
    const quiet = await runFerry(['status', '--target', db.url], { cwd: await emptyCwd() });
    expect(quiet.stderr).not.toMatch(/command started/);
  });

  it('a truncated gzip archive exits 2 from backfill as from inspect, at an offset within the compressed file', async () => {
    const cwd = await emptyCwd();
    const table = (name: string) => ({
      name,
      tables: [
        {
          name,
          columns: [
            { name: 'id', path: ['_id'], pgType: 'uuid', sourceType: 'objectId', nullable: false },
            { name: 'n', path: ['n'], pgType: 'integer', sourceType: 'int', nullable: true },
          ],
        },
      ],
    });
    await writeFile(
      path.join(cwd, 'ferry.config.ts'),
      `export default ${JSON.stringify({ source: truncatedGzip, mapping: { version: 1, collections: [table('orders'), table('users')] } })};\n`,
    );
    const inspect = await runFerry(['inspect', truncatedGzip, '--json'], { cwd });
    expect(inspect.code).toBe(2);
    expect(JSON.parse(inspect.stdout).error).toMatchObject({
      code: 'SOURCE_BAD_GZIP',
      where: { offset: 539 },
    });
    const backfill = await runFerry(['backfill', '--target', db.url], { cwd });
    expect(backfill.code, backfill.stdout + backfill.stderr).toBe(2);
    expect(backfill.stdout).toMatch(/bad gzip stream in .*archive-truncated\.archive\.gz at byte 539 of 539/);
  });
});
