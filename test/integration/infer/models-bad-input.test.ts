import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Int32, ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';
import {
  ESCROW_MODELS,
  escrowDocuments,
  fixtureModels,
  infer,
  seedFerret,
  temporaryFolder,
} from './support.js';

/**
 * Issue 18, "Bad models": models that cannot be read, that name collections the source does
 * not have, or that contradict the data are reported, never a crash and never lost data.
 */
const pg = postgresUrl();
const mongo = mongoUrl();

describe('ferry infer --models with models it cannot use as they are', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>;
  beforeAll(async () => {
    folder = await temporaryFolder('ferry-models-bad-');
    await writeFile(
      path.join(folder.dir, 'users.json'),
      JSON.stringify([{ _id: 'u1', email: 'a@example.com' }]),
    );
  });
  afterAll(async () => {
    await folder?.remove();
  });

  it('names the model file that throws on import, without the credentials in its message, with exit 2', async () => {
    const result = await runFerry(['infer', 'users.json', '--models', fixtureModels('throwing')], {
      cwd: folder.dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(path.join(fixtureModels('throwing'), 'wallet.ts'));
    expect(result.stderr).toContain('FERRY_FIXTURE_WALLET_CURRENCY is not set');
    expect(result.stderr).toContain('mongodb://app:***@db.example/shop');
    expect(result.stderr).not.toContain('s3cret');
    const json = await runFerry(['--json', 'infer', 'users.json', '--models', fixtureModels('throwing')], {
      cwd: folder.dir,
    });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: {
        code: 'INFER_MODELS_IMPORT_FAILED',
        where: { file: path.join(fixtureModels('throwing'), 'wallet.ts') },
      },
    });
  });

  it('refuses a --models path that does not exist, with exit 2', async () => {
    const result = await runFerry(['infer', 'users.json', '--models', 'no-such-models'], { cwd: folder.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--models no-such-models: no such file or folder/);
  });
});

describe.runIf(pg && mongo)('ferry infer --models against a source that disagrees with the models', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>;
  const drops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    folder = await temporaryFolder('ferry-models-disagree-');
  });
  afterAll(async () => {
    for (const drop of drops) await drop();
    await folder?.remove();
  });

  it('warns about a model whose collection the source does not have, and proposes the rest', async () => {
    const source = await seedFerret(mongo!, 'models_absent', escrowDocuments(7, ['users', 'wallets']));
    drops.push(source.drop);
    const result = await infer(folder.dir, source.url, 'absent.config.ts', ['--models', ESCROW_MODELS]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.plan.collections.map((c) => c.name)).toEqual(['users', 'wallets']);
    const absent = result.report.warnings.filter((w) => w.code === 'MODEL_COLLECTION_ABSENT');
    expect(absent.map((w) => w.collection).sort()).toEqual(['ledger', 'notifications', 'purchaseRequests']);
    expect(absent[0]!.message).toMatch(/which the source does not have/);
  });

  it('keeps the data type where the model says Number and the data holds strings, and NOT NULL and CHECK where the data disagrees: named warnings, and zero rejects', async () => {
    const invoices = Array.from({ length: 40 }, (_, i) => ({
      _id: new ObjectId(`66a0000000000000000000${i.toString(16).padStart(2, '0')}`),
      number: `INV-${String(i).padStart(4, '0')}`,
      // One status the model's enum does not allow: no CHECK may reject it.
      status: i === 7 ? 'void' : i % 2 === 0 ? 'sent' : 'paid',
      // One invoice without the amount the model requires: NOT NULL would reject it.
      ...(i === 3 ? {} : { amountMinor: new Int32(100 * i) }),
    }));
    const source = await seedFerret(mongo!, 'models_conflict', { invoices });
    drops.push(source.drop);
    const result = await infer(folder.dir, source.url, 'conflict.config.ts', [
      '--models',
      fixtureModels('conflict'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.report.warnings.filter((w) => w.code.startsWith('MODEL_'));
    expect(warnings).toContainEqual(
      expect.objectContaining({ code: 'MODEL_TYPE_CONFLICT', collection: 'invoices', path: 'number' }),
    );
    expect(warnings.find((w) => w.code === 'MODEL_TYPE_CONFLICT')!.message).toMatch(
      /declares Number, but the data holds string 40: the column stays text/,
    );
    expect(warnings).toContainEqual(
      expect.objectContaining({ code: 'MODEL_ENUM_NOT_IN_DATA', collection: 'invoices', path: 'status' }),
    );
    expect(warnings).toContainEqual(
      expect.objectContaining({
        code: 'MODEL_REQUIRED_NOT_IN_DATA',
        path: 'amountMinor',
        message: expect.stringMatching(/1 of 40 lack it and 0 hold null: the column stays nullable/),
      }),
    );
    // No value of the data is printed, only counts.
    expect(JSON.stringify(result.report.warnings)).not.toContain('void');
    const columns = result.plan.collections[0]!.tables[0]!.columns;
    expect(columns.find((c) => c.name === 'number')).toMatchObject({ pgType: 'text', sourceType: 'string' });
    expect(columns.find((c) => c.name === 'status')!.allowed).toBeUndefined();
    expect(columns.find((c) => c.name === 'amount_minor')!.nullable).toBe(true);
    const decision = result.report.collections[0]!.decisions.find((d) => d.path === 'number')!;
    expect(decision.decidedBy).toBe('data');

    const { url, drop } = await createTestDatabase('models_conflict');
    drops.push(drop);
    const migrated = await runFerry(
      ['migrate', '--config', 'conflict.config.ts', '--target', url, '--yes', '--json'],
      {
        cwd: folder.dir,
      },
    );
    expect(migrated.code, migrated.stderr).toBe(0);
    const rows = await sql<{ n: string; rejects: string }>(
      url,
      `select (select count(*) from public.invoices where number like 'INV-%')::text as n,
              (select count(*) from ferry.rejects)::text as rejects`,
    );
    expect(rows).toEqual([{ n: '40', rejects: '0' }]);
  });
});
