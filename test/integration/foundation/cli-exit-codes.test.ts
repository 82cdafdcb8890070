import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { postgresUrl } from '../../support/services.js';

describe('the ferry CLI', () => {
  it('lists its commands in --help', async () => {
    const result = await runFerry(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: ferry/);
    expect(result.stdout).toMatch(/status/);
  });

  it('exits 2 with one line naming each problem of a bad config', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-cli-'));
    await writeFile(path.join(cwd, 'ferry.config.ts'), `export default { batchSize: 'many', colour: 1 };`);
    const result = await runFerry(['status'], { cwd, env: { DATABASE_URL: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid config .*ferry\.config\.ts/);
    expect(result.stderr).toMatch(/batchSize: /);
    expect(result.stderr).toMatch(/unknown key\(s\) colour/);
  });

  it('exits 2 naming the file when --config points at a missing file', async () => {
    const result = await runFerry(['status', '--config', 'does-not-exist.config.ts']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/config file not found: .*does-not-exist\.config\.ts/);
  });

  it('exits 3 without printing the password when the database is unreachable', async () => {
    const result = await runFerry(['status', '--target', 'postgres://app:Sup3rS3cret@127.0.0.1:1/db']);
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /cannot connect to PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/db/,
    );
    expect(result.stderr + result.stdout).not.toContain('Sup3rS3cret');
  });

  it('exits 3 without printing the password when the password is wrong', async (context) => {
    const url = postgresUrl();
    if (!url) return context.skip();
    const wrong = new URL(url);
    wrong.password = 'WrongPassw0rd';
    const result = await runFerry(['status', '--json', '--target', wrong.toString()]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/refused the connection/);
    expect(result.stderr + result.stdout).not.toContain('WrongPassw0rd');
    expect(JSON.parse(result.stdout).error.code).toBe('TARGET_REFUSED');
  });

  it('reports the server version as JSON when the target is reachable', async (context) => {
    const url = postgresUrl();
    if (!url) return context.skip();
    const result = await runFerry(['status', '--json', '--target', url]);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.serverVersion).toMatch(/^15\./);
    expect(status.target).not.toContain(new URL(url).password);
  });
});
