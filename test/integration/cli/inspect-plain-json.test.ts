import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';

const appState = {
  data: { users: [{ id: 'u1', name: 'Ada', age: 36 }, { id: 'u2', name: 'Lin' }, { id: 'u3' }] },
  version: 3,
};

async function project(config?: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-plain-'));
  await writeFile(path.join(dir, 'app.json'), JSON.stringify(appState));
  if (config) await writeFile(path.join(dir, 'ferry.config.ts'), config);
  return dir;
}

describe('ferry inspect on a plain JSON file of an app without a database', () => {
  it('picks the collection with --pointer and the record id with --id-field', async () => {
    const cwd = await project();
    const result = await runFerry(
      ['inspect', 'app.json', '--pointer', '/data/users', '--id-field', 'id', '--json'],
      { cwd },
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.kind).toBe('json');
    expect(report.collections.map((c: { name: string; count: number }) => [c.name, c.count])).toEqual([
      ['users', 3],
    ]);
  });

  it('takes the same choices from the json entry of ferry.config.ts', async () => {
    const cwd = await project(
      `export default { source: 'app.json', json: { pointer: '/data/users', idField: 'id' } };`,
    );
    const result = await runFerry(['inspect', '--json'], { cwd });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).collections[0]).toMatchObject({ name: 'users', count: 3, rejects: 0 });
  });

  it('exits 2 when the pointer names nothing in the file', async () => {
    const cwd = await project();
    const result = await runFerry(['inspect', 'app.json', '--pointer', '/data/orders'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\/data\/orders/);
  });
});
