import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDomains, setPhase } from '../../../src/runtime/domains.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { ensureFerryState } from '../../../src/target/ferry-state.js';
import { type CutoverWorld, createCutoverWorld } from './cutover-support.js';
import { MARKET_COLLECTIONS, servicesReady } from './support.js';

describe.skipIf(!servicesReady)('ferry rollback steps back to a phase whose other store is complete', () => {
  let world: CutoverWorld;

  beforeAll(async () => {
    world = await createCutoverWorld('rollback', 30);
    const db = targetOf(world.pool);
    await ensureFerryState(db);
    await registerDomains(db, { market: { collections: MARKET_COLLECTIONS } });
    for (const phase of ['dual_write', 'shadow_read', 'pg_read', 'pg_primary'] as const)
      await setPhase(world.pool, 'market', phase, { reason: 'rollback test setup' });
  }, 300_000);

  afterAll(async () => {
    await world?.close();
  });

  it('from pg_primary back to dual_write, delivering the outbox (its bulk before the pause, the rest inside it), and ferry status shows the change with its pause', async () => {
    // A change made while PostgreSQL was the primary, captured for MongoDB.
    await world.pool.query(
      `update users set _extra = coalesce(_extra, '{}'::jsonb) || '{"rolledBack": true}' where id = (select id from users order by id limit 1)`,
    );
    const back = await world.ferry([
      'rollback',
      'market',
      '--to',
      'dual_write',
      '--yes',
      '--reason',
      'drill by hand',
      '--json',
    ]);
    expect(back.code, back.stderr).toBe(0);
    const report = JSON.parse(back.stdout) as {
      from: string;
      to: string;
      flip: { pauseMs: number; eventsDelivered: number; beforePause: { eventsDelivered: number } };
    };
    expect(report).toMatchObject({ from: 'pg_primary', to: 'dual_write' });
    // Nobody wrote meanwhile, so the drain before the pause delivered it and the pause had nothing left.
    expect(report.flip.beforePause.eventsDelivered).toBe(1);
    expect(report.flip.eventsDelivered).toBe(0);
    expect(await world.mongo.collection('users').countDocuments({ rolledBack: true })).toBe(1);

    const status = await world.ferry(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/market.*pg_primary → dual_write.*\d+(\.\d+)? ms.*drill by hand/);
    const json = await world.ferry(['status', '--json']);
    const history = (JSON.parse(json.stdout) as { phaseHistory: { to: string; pauseMs: number | null }[] })
      .phaseHistory;
    expect(history.at(-1)).toMatchObject({ to: 'dual_write', pauseMs: report.flip.pauseMs });
  }, 300_000);

  it('refuses a --to phase that is not before the current one', async () => {
    const forward = await world.ferry(['rollback', 'market', '--to', 'pg_read', '--yes']);
    expect(forward.code).toBe(2);
    expect(forward.stderr).toContain(
      'ferry rollback steps back: domain "market" is in dual_write, and pg_read is not before it',
    );
  }, 120_000);
});
