import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../../src/core/errors.js';
import { PLAN_VERSION } from '../../../src/mapping/model.js';
import { parsePlan } from '../../../src/mapping/validate-plan.js';
import { buildSchema } from '../../../src/schema/build-schema.js';
import { readSnapshot, SNAPSHOT_FILE, writeMigrations } from '../../../src/schema/migration-files.js';
import { shopPlan } from './support/shop-plan.js';

const model = () => buildSchema(parsePlan(shopPlan([{ name: 'email_1', key: { email: 1 }, unique: true }])));

describe('the migrations snapshot', () => {
  let dir: string;
  let file: string;
  let written: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ferry-snapshot-'));
    file = path.join(dir, SNAPSHOT_FILE);
    await writeMigrations(dir, model());
    written = await readFile(file, 'utf8');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The snapshot written above, edited by `edit`, then read back: the error it gives. */
  async function refusal(edit: (json: Record<string, unknown>) => unknown): Promise<FerryError> {
    const json = JSON.parse(written);
    await writeFile(file, JSON.stringify(edit(json)));
    const error = await readSnapshot(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    return error as FerryError;
  }

  it('reads back what it wrote, recording the plan version', async () => {
    expect(await readSnapshot(dir)).toEqual({ ...model(), warnings: [] });
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1, planVersion: PLAN_VERSION });
  });

  it('refuses text that is not JSON (a merge conflict), naming the file', async () => {
    const text = await readFile(file, 'utf8');
    await writeFile(file, `<<<<<<< HEAD\n${text}=======\n${text}>>>>>>> branch\n`);
    const error = (await readSnapshot(dir).catch((e: unknown) => e)) as FerryError;
    expect(error).toBeInstanceOf(FerryError);
    expect([error.code, error.exitCode, error.where.file]).toEqual(['SCHEMA_SNAPSHOT_INVALID', 2, file]);
    expect(error.message).toContain(`the migrations snapshot ${file} is not valid JSON`);
  });

  it('refuses a damaged snapshot with one line per problem and its path', async () => {
    const error = await refusal((json) => {
      const snapshot = json as {
        model: { tables: Record<string, unknown>[]; indexes: Record<string, unknown>[] };
      };
      delete snapshot.model.tables[0]!.columns;
      snapshot.model.indexes[0]!.table = 'no_such_table';
      return snapshot;
    });
    expect([error.code, error.exitCode, error.where.file]).toEqual(['SCHEMA_SNAPSHOT_INVALID', 2, file]);
    expect(error.message).toContain('is not a Ferry migrations snapshot');
    expect(error.message).toMatch(/model\.tables\.0\.columns: /);
  });

  it('refuses a table that an index names but the snapshot does not have', async () => {
    const error = await refusal((json) => {
      const snapshot = json as { model: { indexes: Record<string, unknown>[] } };
      snapshot.model.indexes[0]!.table = 'no_such_table';
      return snapshot;
    });
    expect(error.message).toContain('model.indexes.0.table: no table "no_such_table"');
  });

  it("refuses another tool's snapshot file", async () => {
    const error = await refusal(() => ({
      id: 'a1b2',
      prevId: '0000',
      version: '7',
      dialect: 'postgresql',
      tables: {},
    }));
    expect([error.code, error.where.file]).toEqual(['SCHEMA_SNAPSHOT_INVALID', file]);
    expect(error.message).toMatch(/unknown key\(s\) id, prevId, dialect, tables/);
  });

  it('refuses a snapshot of another snapshot format or mapping plan version', async () => {
    const format = await refusal((json) => ({ ...json, version: 2 }));
    expect([format.code, format.where.file]).toEqual(['SCHEMA_SNAPSHOT_VERSION', file]);
    expect(format.message).toContain('has snapshot version 2; this Ferry reads 1');
    const plan = await refusal((json) => ({ ...json, planVersion: PLAN_VERSION + 1 }));
    expect([plan.code, plan.exitCode]).toEqual(['SCHEMA_SNAPSHOT_VERSION', 2]);
    expect(plan.message).toContain(`written for mapping plan version ${PLAN_VERSION + 1}`);
  });

  it('reads a TTL rule of 0 seconds (expire at the date the field holds)', async () => {
    const json = JSON.parse(written);
    const table = json.model.tables[0];
    json.model.ttl = [{ table: table.name, column: table.columns[0].name, seconds: 0, source: 'at_1' }];
    await writeFile(file, JSON.stringify(json));
    expect((await readSnapshot(dir))?.ttl).toEqual([json.model.ttl[0]]);
  });

  it('reads a snapshot written before the plan version was recorded', async () => {
    const { planVersion: _recorded, ...older } = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify(older));
    expect(await readSnapshot(dir)).toEqual({ ...model(), warnings: [] });
  });
});
