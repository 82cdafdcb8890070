import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domainEvents } from '../../../src/runtime/domains.js';
import { type CutoverWorld, createCutoverWorld, recordShadowMinute } from './cutover-support.js';
import { servicesReady } from './support.js';

/** The first failing gate line of a refused cutover's stderr. */
function refusal(stderr: string): string {
  return stderr.split('\n').find((line) => line.includes('cutover refused')) ?? stderr;
}

describe.skipIf(!servicesReady)(
  'ferry cutover checks every gate, names the failing one with its figure, and audits each change',
  () => {
    let world: CutoverWorld;

    beforeAll(async () => {
      world = await createCutoverWorld('gates');
    }, 300_000);

    afterAll(async () => {
      await world?.close();
    });

    it('refuses to enter dual_write before a deep verify, naming the verify gate, and passes once verify is clean', async () => {
      const refused = await world.ferry(['cutover', 'market', '--to', 'dual_write', '--yes']);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refusal(refused.stderr)).toMatch(
        /gate verify failed: figure none, threshold clean, ≤ 24 h old \(no deep verify of /,
      );
      expect(refused.stdout).toMatch(/pass {2}backfill/);
      expect(refused.stdout).toContain('nothing changed: domain "market" stays in mongo');

      const verified = await world.ferry(['verify']);
      expect(verified.code, verified.stderr).toBe(0);
      const passed = await world.ferry(['cutover', 'market', '--to', 'dual_write', '--yes', '--json']);
      expect(passed.code, passed.stderr).toBe(0);
      const report = JSON.parse(passed.stdout) as {
        changed: boolean;
        gates: { name: string; ok: boolean }[];
      };
      expect(report.changed).toBe(true);
      expect(report.gates.map((g) => [g.name, g.ok])).toEqual([
        ['backfill', true],
        ['verify', true],
      ]);
      const [event] = (await domainEvents(world.pool, 'market')).slice(-1);
      expect(event).toMatchObject({ from: 'mongo', to: 'dual_write', figures: { command: 'cutover' } });
      expect((event!.figures.gates as unknown[]).length).toBe(2);
    }, 300_000);

    it('moves one phase at a time: a phase further on is a usage error', async () => {
      const skipped = await world.ferry(['cutover', 'market', '--to', 'pg_read', '--yes']);
      expect(skipped.code).toBe(2);
      expect(skipped.stderr).toContain('the next phase is shadow_read, not pg_read');
    }, 120_000);

    it('refuses open gaps over the limit; --force without --reason is refused, with one the change is audited as forced', async () => {
      await world.pool.query(
        `insert into ferry.gaps (schema, collection, doc_id, operation)
       select 'public', 'users', '{"$numberInt":"' || i || '"}', 'test' from generate_series(1, 12) as i`,
      );
      const refused = await world.ferry(['cutover', 'market', '--to', 'shadow_read', '--yes']);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refusal(refused.stderr)).toContain(
        'gate open_gaps failed: figure 12, threshold < 10 (12 open gaps)',
      );

      const noReason = await world.ferry(['cutover', 'market', '--to', 'shadow_read', '--yes', '--force']);
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain('--force overrides a failing gate only with a reason');

      const forced = await world.ferry([
        'cutover',
        'market',
        '--to',
        'shadow_read',
        '--yes',
        '--force',
        '--reason',
        'the gaps are test rows',
      ]);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stdout).toContain('forced past: open_gaps');
      const [event] = (await domainEvents(world.pool, 'market')).slice(-1);
      expect(event).toMatchObject({
        from: 'dual_write',
        to: 'shadow_read',
        reason: 'the gaps are test rows',
        figures: { forced: ['open_gaps'] },
      });
      await world.pool.query(`update ferry.gaps set closed_at = now() where operation = 'test'`);
    }, 300_000);

    it("refuses pg_read on too few shadow reads, on a mismatch, and on a PostgreSQL p95 of 1.7 × MongoDB's, each with its figure, and passes at 1.3 × across a power of two", async () => {
      await recordShadowMinute(world, { matched: 10, mismatched: 0, primaryMs: 2, candidateMs: 2 });
      const few = await world.ferry(['cutover', 'market', '--to', 'pg_read', '--yes']);
      expect(few.code).toBe(1);
      expect(refusal(few.stderr)).toContain(
        'gate shadow_mismatches failed: figure 0, threshold 0 in ≥ 20 compared reads',
      );

      await recordShadowMinute(world, { matched: 30, mismatched: 1, primaryMs: 2, candidateMs: 2 });
      const mismatch = await world.ferry(['cutover', 'market', '--to', 'pg_read', '--yes']);
      expect(mismatch.code).toBe(1);
      expect(refusal(mismatch.stderr)).toContain('gate shadow_mismatches failed: figure 1,');
      await world.pool.query('delete from ferry.shadow_reads');

      await recordShadowMinute(world, { matched: 100, mismatched: 0, primaryMs: 2, candidateMs: 7 });
      const slow = await world.ferry(['cutover', 'market', '--to', 'pg_read', '--yes']);
      expect(slow.code).toBe(1);
      expect(refusal(slow.stderr)).toContain(
        'gate p95_ratio failed: figure 4, threshold ≤ 1.5 (PostgreSQL p95 8 ms, MongoDB p95 2 ms',
      );
      expect(slow.stdout).toMatch(/pass {2}shadow_mismatches/);
      await world.pool.query('delete from ferry.shadow_reads');

      // 2.1 and 3.57 ms: within one doubling, which the buckets before state step 20 read as 1.
      await recordShadowMinute(world, { matched: 100, mismatched: 0, primaryMs: 2.1, candidateMs: 3.57 });
      const slower = await world.ferry(['cutover', 'market', '--to', 'pg_read', '--yes']);
      expect(slower.code).toBe(1);
      expect(refusal(slower.stderr)).toContain(
        'gate p95_ratio failed: figure 1.68, threshold ≤ 1.5 (PostgreSQL p95 4 ms, MongoDB p95 2.38 ms',
      );
      await world.pool.query('delete from ferry.shadow_reads');

      // 1.9 and 2.47 ms straddle 2 ms, which the doubling buckets read as 4 / 2 = 2.
      await recordShadowMinute(world, { matched: 100, mismatched: 0, primaryMs: 1.9, candidateMs: 2.47 });
      const passed = await world.ferry(['cutover', 'market', '--to', 'pg_read', '--yes']);
      expect(passed.code, passed.stderr).toBe(0);
      expect(passed.stdout).toMatch(/pass {2}p95_ratio +1\.41 /);
      expect(passed.stdout).toContain('changed: shadow_read → pg_read');
      // `ferry status` shows the same bucket bounds, rounded up for people.
      const status = await world.ferry(['status']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/users\b.*≤ 2 ms.*≤ 2\.83 ms/);
    }, 300_000);

    it('refuses to move the primary without a rollback drill in pg_read, then moves it after one and reports the pause', async () => {
      const refused = await world.ferry(['cutover', 'market', '--to', 'pg_primary', '--yes']);
      expect(refused.code).toBe(1);
      expect(refusal(refused.stderr)).toContain(
        'gate rollback_drill failed: figure none, threshold passed in pg_read',
      );

      const drill = await world.ferry(['rollback', 'market', '--drill', '--yes', '--json']);
      expect(drill.code, drill.stderr).toBe(0);
      expect(JSON.parse(drill.stdout)).toMatchObject({
        ok: true,
        phase: 'pg_read',
        backTo: 'shadow_read',
        endedIn: 'pg_read',
      });
      await new Promise((resolve) => setTimeout(resolve, 1100));

      const moved = await world.ferry(['cutover', 'market', '--to', 'pg_primary', '--yes', '--json']);
      expect(moved.code, moved.stderr).toBe(0);
      const report = JSON.parse(moved.stdout) as { changed: boolean; flip: { pauseMs: number } };
      expect(report.changed).toBe(true);
      expect(report.flip.pauseMs).toBeGreaterThan(0);
      const [event] = (await domainEvents(world.pool, 'market')).slice(-1);
      expect(event).toMatchObject({ from: 'pg_read', to: 'pg_primary' });
      expect((event!.figures.pause as { pauseMs: number }).pauseMs).toBe(report.flip.pauseMs);
    }, 300_000);

    it('refuses pg_only while the outbox lags, and after a drill in pg_primary retires MongoDB; rollback from pg_only is refused', async () => {
      // An event MongoDB has not taken for five minutes (its key names no entity, so no worker
      // delivers it while the test looks).
      await world.pool.query(
        `insert into ferry.outbox (schema, collection, doc_key, enqueued_at)
       values ('public', 'users', '"stuck"', now() - interval '5 minutes')`,
      );
      const lagging = await world.ferry(['cutover', 'market', '--to', 'pg_only', '--yes']);
      expect(lagging.code).toBe(1);
      expect(refusal(lagging.stderr)).toMatch(
        /gate outbox_lag failed: figure 3\d\d(\.\d)?, threshold ≤ 60 s, no dead events/,
      );
      await world.pool.query(`delete from ferry.outbox`);

      const drill = await world.ferry(['rollback', 'market', '--drill', '--yes', '--json']);
      expect(drill.code, drill.stderr).toBe(0);
      const drilled = JSON.parse(drill.stdout) as {
        ok: boolean;
        back: { pauseMs: number };
        forward: { pauseMs: number };
      };
      expect(drilled).toMatchObject({ ok: true, phase: 'pg_primary', backTo: 'pg_read' });
      expect(drilled.back.pauseMs).toBeGreaterThan(0);
      expect(drilled.forward.pauseMs).toBeGreaterThan(0);

      const retired = await world.ferry(['cutover', 'market', '--to', 'pg_only', '--yes']);
      expect(retired.code, retired.stderr).toBe(0);
      expect(retired.stdout).toContain('changed: pg_primary → pg_only');

      const back = await world.ferry(['rollback', 'market', '--yes']);
      expect(back.code).toBe(2);
      expect(back.stderr).toContain('MongoDB is no longer fed');
    }, 300_000);
  },
);
