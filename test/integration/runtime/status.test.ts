import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDomains, setPhase } from '../../../src/runtime/domains.js';
import { recordGaps } from '../../../src/runtime/gaps.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { finishSyncRun, startSyncRun } from '../../../src/runtime/sync/sync-runs.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { runFerry } from '../../support/cli.js';
import { createTestDatabase, mongoUrl } from '../../support/services.js';
import { servicesReady } from './support.js';

const domains = { money: { collections: ['payments', 'ledger'] }, people: { collections: ['users'] } };

describe.skipIf(!servicesReady)('ferry status shows the runtime', () => {
  let target: { url: string; drop: () => Promise<void> };
  let pool: pg.Pool;
  let client: MongoClient;
  let cwd: string;

  beforeAll(async () => {
    target = await createTestDatabase('rt_status');
    pool = new pg.Pool({ connectionString: target.url, max: 2 });
    client = new MongoClient(mongoUrl()!, { serverSelectionTimeoutMS: 5000 });
    cwd = await mkdtemp(path.join(tmpdir(), 'ferry-status-'));
    await writeFile(path.join(cwd, 'ferry.config.ts'), `export default ${JSON.stringify({ domains })};\n`);
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await client?.close();
    await target?.drop();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it('without any runtime state, every configured domain is in phase mongo, not registered, with no gap and no sync', async () => {
    const result = await runFerry(['status', '--json', '--target', target.url], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const { runtime } = JSON.parse(result.stdout) as { runtime: Record<string, unknown> };
    expect(runtime).toEqual({
      domains: [
        expect.objectContaining({ name: 'money', phase: 'mongo', registered: false, openGaps: 0 }),
        expect.objectContaining({ name: 'people', phase: 'mongo', registered: false, openGaps: 0 }),
      ],
      openGaps: 0,
      oldestGapAgeSeconds: null,
      lastSync: null,
      lastTtl: null,
    });
  }, 120_000);

  it('shows each domain’s phase, its open gaps and the oldest one’s age, and the last sync', async () => {
    const db = targetOf(pool);
    await ensureFerryState(db);
    await registerDomains(db, domains);
    await setPhase(pool, 'money', 'dual_write', { reason: 'status test' });
    const stores = {
      mongo: client.db('ferry_status_unused'),
      pg: pool,
      plan: { version: 1 as const, collections: [] },
      schema: 'public',
    };
    await recordGaps(stores, [
      { collection: 'payments', id: new ObjectId(), operation: 'updateOne', error: new Error('x') },
      { collection: 'ledger', id: new ObjectId(), operation: 'insertOne', error: new Error('x') },
    ]);
    await pool.query(
      `update ferry.gaps set first_seen = now() - interval '90 seconds' where collection = 'ledger'`,
    );
    const run = await startSyncRun(db, { schema: 'public' });
    await finishSyncRun(db, run.id, true);

    const result = await runFerry(['status', '--json', '--target', target.url], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const { runtime } = JSON.parse(result.stdout) as {
      runtime: { domains: Record<string, unknown>[]; openGaps: number; lastSync: Record<string, unknown> };
    };
    expect(runtime.domains[0]).toMatchObject({
      name: 'money',
      phase: 'dual_write',
      registered: true,
      openGaps: 2,
    });
    expect(runtime.domains[0]!.oldestGapAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(runtime.domains[1]).toMatchObject({
      name: 'people',
      phase: 'mongo',
      openGaps: 0,
      oldestGapAgeSeconds: null,
    });
    expect(runtime.openGaps).toBe(2);
    expect(runtime.lastSync).toMatchObject({ id: run.id, ok: true });

    const text = await runFerry(['status', '--target', target.url], { cwd });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/money\s+│?\s*dual_write/);
    expect(text.stdout).toContain('open gaps:       2, oldest');
    expect(text.stdout).toContain(`last sync:       run ${run.id}, stores equal`);
  }, 120_000);
});
