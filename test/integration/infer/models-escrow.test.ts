import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/infer/report-render.js';
import type { Plan } from '../../../src/mapping/model.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, mongoUrl, postgresUrl } from '../../support/services.js';
import { sql } from '../load/support.js';
import {
  ESCROW_MODELS,
  escrowDocuments,
  type InferOutput,
  infer,
  seedFerret,
  temporaryFolder,
} from './support.js';

/**
 * Issue 18, "Mongoose models": the escrow app's models, merged with the data in FerretDB,
 * infer the same tables as the data alone, plus the foreign keys, CHECKs and TTL rules only
 * the models reveal; the mapping then loads every document.
 */
const pg = postgresUrl();
const mongo = mongoUrl();
// A fixed seed, not FERRY_SEED: the report's snapshot pins the figures of this one dataset.
const SEED = 20260101;

describe.runIf(pg && mongo)('ferry infer --models on the escrow example app', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>;
  let source: Awaited<ReturnType<typeof seedFerret>>;
  let fromData: InferOutput;
  let withModels: InferOutput;

  beforeAll(async () => {
    folder = await temporaryFolder('ferry-models-escrow-');
    source = await seedFerret(mongo!, 'escrow_models', escrowDocuments(SEED));
    fromData = await infer(folder.dir, source.url, 'data.config.ts');
    withModels = await infer(folder.dir, source.url, 'models.config.ts', ['--models', ESCROW_MODELS]);
  });
  afterAll(async () => {
    await source?.drop();
    await folder?.remove();
  });

  it('infers the same tables as inference from the data alone', () => {
    expect(fromData.code, fromData.stderr).toBe(0);
    expect(withModels.code, withModels.stderr).toBe(0);
    expect(tablesOf(withModels.plan)).toEqual(tablesOf(fromData.plan));
    expect(tablesOf(withModels.plan)).toContain(
      'purchaseRequests: purchase_requests_items ← purchase_requests',
    );
  });

  it('adds the foreign keys only the models reveal and keeps every one the data found', () => {
    const dataKeys = foreignKeys(fromData.plan);
    const modelKeys = foreignKeys(withModels.plan);
    for (const key of dataKeys) expect(modelKeys).toContain(key);
    // Never written yet, so the data cannot show it: only the model's `ref` does.
    expect(dataKeys.some((k) => k.startsWith('ledger.reversal_of'))).toBe(false);
    expect(modelKeys).toContain('ledger.reversal_of → ledger.id');
  });

  it('turns refPath into a discriminator the data alone leaves as one ambiguous uuid column', () => {
    const ledger = (plan: Plan) => plan.collections.find((c) => c.name === 'ledger')!.tables[0]!;
    expect(ledger(fromData.plan).discriminators ?? []).toEqual([]);
    expect(fromData.report.warnings).toContainEqual(
      expect.objectContaining({ code: 'AMBIGUOUS_REFERENCE', collection: 'ledger', path: 'subject' }),
    );
    expect(ledger(withModels.plan).discriminators).toEqual([
      {
        path: ['subject'],
        kindPath: ['subjectModel'],
        columns: { kind: 'subject_kind', id: 'subject_id', ref: 'subject_ref' },
        kinds: [
          { name: 'PurchaseRequest', idType: 'objectId', table: 'purchase_requests' },
          { name: 'Wallet', idType: 'objectId', table: 'wallets' },
        ],
      },
    ]);
  });

  it('makes each enum a CHECK, gives Map and Decimal128 their types, and adds the declared indexes and TTL', () => {
    const allowedFrom = (plan: Plan) =>
      plan.collections.flatMap((c) =>
        c.tables.flatMap((t) => t.columns.filter((col) => col.allowed).map((col) => `${t.name}.${col.name}`)),
      );
    expect(allowedFrom(fromData.plan)).toEqual([]);
    expect(allowedFrom(withModels.plan).sort()).toEqual([
      'ledger.currency',
      'ledger.entry_type',
      'notifications.kind',
      'purchase_requests.currency',
      'purchase_requests.status',
      'purchase_requests_history.status',
      'users.kyc_level',
      'users.roles',
      'users.status',
      'wallets.currency',
      'wallets.status',
    ]);
    const column = (plan: Plan, collection: string, name: string) =>
      plan.collections.find((c) => c.name === collection)!.tables[0]!.columns.find((c) => c.name === name);
    expect(column(withModels.plan, 'ledger', 'fx_rate')).toMatchObject({
      pgType: 'numeric',
      sourceType: 'decimal',
    });
    expect(column(withModels.plan, 'users', 'preferences')).toMatchObject({
      pgType: 'jsonb',
      sourceType: 'object',
    });
    expect(column(fromData.plan, 'users', 'preferences_sms')).toBeDefined();
    const indexes = (plan: Plan, collection: string) =>
      plan.collections.find((c) => c.name === collection)!.indexes ?? [];
    expect(indexes(fromData.plan, 'notifications')).toEqual([]);
    expect(indexes(withModels.plan, 'notifications')).toContainEqual({
      name: 'expiresAt_1',
      key: { expiresAt: 1 },
      expireAfterSeconds: 0,
    });
    expect(indexes(withModels.plan, 'users')).toContainEqual({
      name: 'phone_1',
      key: { phone: 1 },
      unique: true,
      sparse: true,
    });
  });

  it('says per field whether the model, the data or both decided, pinned in a snapshot', () => {
    const modelled = withModels.report.collections.filter((c) => c.model !== undefined);
    expect(modelled.map((c) => c.model)).toEqual([
      'LedgerEntry',
      'Notification',
      'PurchaseRequest',
      'User',
      'Wallet',
    ]);
    for (const c of modelled)
      for (const d of c.decisions) expect(d.decidedBy, `${c.name} ${d.path}`).toBeDefined();
    const by = (collection: string, path: string) =>
      withModels.report.collections.find((c) => c.name === collection)!.decisions.find((d) => d.path === path)
        ?.decidedBy;
    expect(by('ledger', 'fxRate')).toBe('model');
    expect(by('ledger', 'wallet')).toBe('both');
    expect(by('users', 'preferences')).toBe('model');
    expect(renderReport(withModels.report)).toMatchSnapshot();
  });

  it('migrates with the merged mapping: CHECKs, foreign keys and the TTL rule exist, and every document loads', async () => {
    const { url, drop } = await createTestDatabase('models_escrow');
    try {
      const migrated = await runFerry(
        ['migrate', '--config', 'models.config.ts', '--target', url, '--yes', '--json'],
        {
          cwd: folder.dir,
        },
      );
      expect(migrated.code, migrated.stderr).toBe(0);
      const constraints = await sql<{ name: string; kind: string }>(
        url,
        `select conname as name, contype::text as kind from pg_constraint c join pg_namespace n on n.oid = c.connamespace
          where n.nspname = 'public' and contype in ('c', 'f') order by conname`,
      );
      const names = constraints.map((c) => `${c.kind} ${c.name}`);
      expect(names).toContain('c users_status_check');
      expect(names).toContain('c users_roles_check');
      expect(names).toContain('c ledger_subject_kind_check');
      expect(names).toContain('f ledger_reversal_of_fkey');
      const [{ rejects }] = (await sql<{ rejects: string }>(
        url,
        'select count(*)::text as rejects from ferry.rejects',
      )) as [{ rejects: string }];
      expect(rejects).toBe('0');
      const planned = await runFerry(['plan', '--config', 'models.config.ts', '--target', url], {
        cwd: folder.dir,
      });
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toMatch(/notifications.*expires_at/);
      const drift = await runFerry(['schema', 'check', '--config', 'models.config.ts', '--target', url], {
        cwd: folder.dir,
      });
      expect(drift.code, drift.stdout + drift.stderr).toBe(0);
      // A value outside the enum is refused by PostgreSQL itself now.
      await expect(sql(url, `update public.users set status = 'deleted'`)).rejects.toThrow(
        /users_status_check/,
      );
    } finally {
      await drop();
    }
  });
});

function tablesOf(plan: Plan): string[] {
  return plan.collections.flatMap((c) =>
    c.tables.map((t) => `${c.name}: ${t.name}${t.parent ? ` ← ${t.parent.table}` : ''}`),
  );
}

function foreignKeys(plan: Plan): string[] {
  return plan.collections.flatMap((c) =>
    c.tables.flatMap((t) =>
      t.columns
        .filter((col) => col.references)
        .map((col) => `${t.name}.${col.name} → ${col.references!.table}.${col.references!.column}`),
    ),
  );
}
