import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flipPhase } from '../../../src/runtime/cutover/flip-phase.js';
import { registerDomains, setPhase } from '../../../src/runtime/domains.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { spawnFerry } from '../../support/cli.js';
import { type AppWriter, type CutoverWorld, createCutoverWorld, startAppWriter } from './cutover-support.js';
import { differences, MARKET_COLLECTIONS, servicesReady, verifyWorld, waitFor } from './support.js';

/**
 * `ferry rollback --drill` under traffic (issue 15): two application instances, each a process
 * of its own on the public runtime, write continuously through `withPrimary` while the real CLI
 * runs the drill from pg_read and from pg_primary, with `ferry outbox work` feeding MongoDB as
 * it would beside the app. The drill must pass and be recorded, no write may fail or be lost,
 * and the stores must end equal.
 */
describe.skipIf(!servicesReady)('the rollback drill under traffic from app processes', () => {
  let world: CutoverWorld;
  let outboxWorker: ChildProcess | undefined;
  const writers: AppWriter[] = [];

  beforeAll(async () => {
    // Scale 150: 10 users, enough for every write loop of both processes to have users of its own.
    world = await createCutoverWorld('drilltraffic', 150);
    const db = targetOf(world.pool);
    await ensureFerryState(db);
    await registerDomains(db, { market: { collections: MARKET_COLLECTIONS } });
    for (const phase of ['dual_write', 'shadow_read', 'pg_read'] as const)
      await setPhase(world.pool, 'market', phase, { reason: 'drill under traffic setup' });
    outboxWorker = spawnFerry(
      ['outbox', 'work', world.sourceUri, '--target', world.targetUrl, '--poll', '200'],
      world.cwd,
    );
    // Each process its own users: FerretDB loses concurrent updates of one document (app-writer.ts).
    for (const [i, name] of ['app-1', 'app-2'].entries())
      writers.push(startAppWriter(world, name, { first: i * 4, count: 4 }));
    await Promise.all(writers.map((w) => w.ready));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(writers.map((w) => w.stop().catch(() => undefined)));
    outboxWorker?.kill('SIGTERM');
    await world?.close();
  });

  const drill = async (phase: string) => {
    const run = await world.ferry([
      'rollback',
      'market',
      '--drill',
      '--yes',
      '--json',
      '--reason',
      `drill from ${phase}`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      phase: string;
      backTo: string;
      endedIn: string;
      id: number;
    };
    expect(report).toMatchObject({ ok: true, phase, endedIn: phase });
    const { rows } = await world.pool.query<{ ok: boolean; phase: string; back_to: string }>(
      'select ok, phase, back_to from ferry.rollback_drills where id = $1',
      [report.id],
    );
    expect(rows).toEqual([{ ok: true, phase, back_to: report.backTo }]);
  };

  it('passes a drill from pg_read (back to shadow_read and forward) while both app processes write', async () => {
    await drill('pg_read');
  }, 300_000);

  it('passes a drill from pg_primary (back to pg_read, delivering the outbox, and forward) while both app processes write', async () => {
    const stores = { mongo: world.mongo, pg: world.pool, plan: world.plan, schema: world.schema };
    await flipPhase(stores, 'market', 'pg_primary', {
      change: { reason: 'drill under traffic: to pg_primary' },
    });
    await drill('pg_primary');
  }, 300_000);

  it('loses no write of either app process: every acknowledged write is in both stores, and they are equal', async () => {
    const reports = await Promise.all(writers.splice(0).map((w) => w.stop()));
    for (const report of reports) {
      expect(report.failures, report.name).toEqual([]);
      expect(report.failed).toBe(0);
      // Each took writes on both sides of the drills' flips.
      expect(report.acknowledged.mongo, report.name).toBeGreaterThan(0);
      expect(report.acknowledged.pg, report.name).toBeGreaterThan(0);
    }
    const made = reports.reduce((n, r) => n + r.acknowledged.mongo + r.acknowledged.pg, 0);
    // The domain is in pg_primary: MongoDB holds the writes once the outbox worker delivered them.
    await waitFor(async () => {
      const { rows } = await world.pool.query<{ n: number }>(
        `select count(*)::int as n from ferry.outbox where status <> 'delivered'`,
      );
      return rows[0]!.n === 0;
    }, 60_000);
    const { rows } = await world.pool.query<{ sum: number }>(
      `select coalesce(sum((_extra ->> 'appWrites')::int), 0)::int as sum from users`,
    );
    const inMongo = await world.mongo
      .collection('users')
      .find({ appWrites: { $exists: true } }, { projection: { appWrites: 1 } })
      .toArray();
    const sums = {
      made,
      postgres: rows[0]!.sum,
      mongo: inMongo.reduce((n, d) => n + Number(d.appWrites), 0),
    };
    expect(sums).toEqual({ made, postgres: made, mongo: made });
    const result = await verifyWorld(world);
    expect(differences(result)).toEqual([]);
    expect(result.ok).toBe(true);
  }, 300_000);
});
