import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../../src/config/load.js';
import { FerryError } from '../../../src/core/errors.js';

async function projectWith(configSource: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-config-'));
  await writeFile(path.join(dir, 'ferry.config.ts'), configSource);
  return dir;
}

describe('loadConfig', () => {
  it('loads a TypeScript config with defineConfig and no build step', async () => {
    const cwd = await projectWith(`
      import { defineConfig } from '${path.resolve('src/index.ts')}';
      const batch: number = 500;
      export default defineConfig({ source: 'dump/', target: 'postgres://h/db', batchSize: batch });
    `);
    const config = await loadConfig({ cwd, env: {} });
    expect(config).toMatchObject({
      source: path.join(cwd, 'dump'),
      target: 'postgres://h/db',
      batchSize: 500,
    });
    expect(config.configFile).toBe(path.join(cwd, 'ferry.config.ts'));
  });

  it("resolves a relative source against the config's folder, from any working folder; a URI stays as it is", async () => {
    const project = await projectWith(`export default { source: 'data/shop.archive' };`);
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'ferry-elsewhere-'));
    const config = await loadConfig({
      cwd: elsewhere,
      configPath: path.join(project, 'ferry.config.ts'),
      env: {},
    });
    expect(config.source).toBe(path.join(project, 'data/shop.archive'));
    const given = await loadConfig({
      cwd: elsewhere,
      configPath: path.join(project, 'ferry.config.ts'),
      env: {},
      source: 'x.json',
    });
    expect(given.source).toBe('x.json');
    const live = await projectWith(`export default { source: 'mongodb://localhost:27017/shop' };`);
    expect((await loadConfig({ cwd: live, env: {} })).source).toBe('mongodb://localhost:27017/shop');
  });

  it('lets DATABASE_URL override the file and --target override both', async () => {
    const cwd = await projectWith(`export default { target: 'postgres://file/db' };`);
    expect((await loadConfig({ cwd, env: { DATABASE_URL: 'postgres://env/db' } })).target).toBe(
      'postgres://env/db',
    );
    const fromFlag = await loadConfig({
      cwd,
      env: { DATABASE_URL: 'postgres://env/db' },
      target: 'postgres://flag/db',
    });
    expect(fromFlag.target).toBe('postgres://flag/db');
  });

  it('treats a missing default config as empty but a missing --config as a usage error', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'ferry-config-'));
    expect((await loadConfig({ cwd, env: {} })).configFile).toBeUndefined();
    await expect(loadConfig({ cwd, env: {}, configPath: 'nope.ts' })).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      exitCode: 2,
    });
  });

  it('reports one line per problem, each with its path', () => {
    let error: unknown;
    try {
      validateConfig({ batchSize: -1, schemas: ['ok', 'bad name'], sorce: 'x' }, 'ferry.config.ts');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FerryError);
    const lines = (error as FerryError).message.split('\n');
    expect(lines[0]).toBe('invalid config ferry.config.ts:');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}- batchSize: .*>0/));
    expect(lines).toContainEqual('  - schemas.1: must be a plain SQL identifier');
    expect(lines).toContainEqual('  - (root): unknown key(s) sorce');
  });

  it('turns a config that throws while loading into a usage error naming the file', async () => {
    const cwd = await projectWith(`throw new Error('kaboom');`);
    await expect(loadConfig({ cwd, env: {} })).rejects.toMatchObject({
      code: 'CONFIG_LOAD_FAILED',
      message: expect.stringContaining('kaboom'),
    });
  });
});
