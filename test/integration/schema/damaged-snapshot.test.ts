import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { writeMigrations } from '../../../src/schema/migration-files.js';
import { runFerry } from '../../support/cli.js';
import { shopPlan } from '../../unit/schema/support/shop-plan.js';
import { appFolder } from './support.js';

/**
 * A damaged snapshot stops `ferry schema apply` and `ferry schema check` with exit 2 naming
 * the file, before they touch a database: the target here does not exist, so an exit 3 would
 * mean the snapshot was not checked first.
 */
const PLAN = shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }]);
const UNREACHABLE = 'postgres://ferry@127.0.0.1:1/none';

describe('ferry schema with a damaged migrations snapshot', () => {
  let dir: string;
  let snapshot: string;
  beforeAll(async () => {
    dir = await appFolder(PLAN);
    await writeMigrations(path.join(dir, 'migrations'), buildSchema(parsePlan(PLAN)));
    snapshot = path.join(dir, 'migrations', 'ferry-snapshot.json');
    const json = JSON.parse(await readFile(snapshot, 'utf8'));
    json.model.tables[0].columns = 'lost in a merge';
    await writeFile(snapshot, JSON.stringify(json, null, 2));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([['apply'], ['check']])('schema %s exits 2 naming the snapshot file', async (command) => {
    const result = await runFerry(['schema', command, '--target', UNREACHABLE], { cwd: dir });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(
      `the migrations snapshot ${path.join('migrations', 'ferry-snapshot.json')}`,
    );
    expect(result.stderr).toContain('model.tables.0.columns: ');
  });

  it('schema check --json gives the code and the file', async () => {
    const result = await runFerry(['schema', 'check', '--json', '--target', UNREACHABLE], { cwd: dir });
    expect(result.code).toBe(2);
    const { error } = JSON.parse(result.stdout);
    expect(error.code).toBe('SCHEMA_SNAPSHOT_INVALID');
    expect(error.where.file).toBe(path.join('migrations', 'ferry-snapshot.json'));
  });
});
