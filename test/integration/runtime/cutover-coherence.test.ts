import type { ObjectId } from 'bson';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../../src/core/errors.js';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { flipPhase } from '../../../src/runtime/cutover/flip-phase.js';
import { setPhase } from '../../../src/runtime/domains.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { type AppWriter, type CutoverWorld, createCutoverWorld, startAppWriter } from './cutover-support.js';
import { servicesReady, startRuntime, waitFor } from './support.js';

/**
 * The primary rule (DESIGN.md runtime rule 3) under load: writers in two runtimes of this
 * process, each on its own pool, and two application processes of their own (app-writer.ts),
 * write through `withPrimary` while the primary flips back and forth. Every write
 * logs which store took it and when, by PostgreSQL's clock, while it still holds the domain
 * lock: a MongoDB write logs after MongoDB acknowledged it, a PostgreSQL write inside its own
 * transaction. The flips' bounds are read from the same clock just before and just after each.
 */
describe.skipIf(!servicesReady)('the primary flips coherently across runtimes under load', () => {
  let world: CutoverWorld;
  const pools: pg.Pool[] = [];
  const runtimes: Runtime[] = [];
  const apps: AppWriter[] = [];

  beforeAll(async () => {
    // Scale 100: 7 users, 2 for each app process's write loops.
    world = await createCutoverWorld('coherence', 100);
    await world.pool.query(
      `create table coherence_log (seq bigint generated always as identity, writer text not null,
         store text not null, at timestamptz not null default clock_timestamp())`,
    );
    for (let i = 0; i < 2; i++) {
      const pool = new pg.Pool({ connectionString: world.targetUrl, max: 6 });
      pool.on('error', () => {});
      pools.push(pool);
      runtimes.push(await startRuntime(world, { pg: pool }));
    }
    for (const phase of ['shadow_read', 'pg_read'] as const)
      await setPhase(world.pool, 'market', phase, { reason: 'test' });
    await Promise.all(runtimes.map((r) => r.refresh()));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop().catch(() => undefined)));
    for (const runtime of runtimes) await runtime.close();
    for (const pool of pools) await pool.end();
    await world?.close();
  });

  it('sends no write to MongoDB after a flip to pg_primary commits, none to PostgreSQL before it, and reports each pause', async () => {
    const users = world.ids.get('users') as ObjectId[];
    let stop = false;
    const failures: unknown[] = [];
    const writer = async (runtime: Runtime, name: string, pool: pg.Pool) => {
      let n = 0;
      while (!stop) {
        const id = users[n++ % users.length]!;
        try {
          await runtime.withPrimary('market', {
            mongo: async () => {
              await runtime.collection('users').updateOne({ _id: id }, { $inc: { coherenceWrites: 1 } });
              await pool.query(`insert into coherence_log (writer, store) values ($1, 'mongo')`, [name]);
            },
            pg: async (client) => {
              await client.query(
                `update users set _extra = coalesce(_extra, '{}'::jsonb) || jsonb_build_object('pgWrites', $2::int) where id = $1`,
                [objectIdToUuid(id), n],
              );
              await client.query(`insert into coherence_log (writer, store) values ($1, 'pg')`, [name]);
            },
          });
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const writers = runtimes.flatMap((runtime, r) =>
      [0, 1, 2].map((w) => writer(runtime, `runtime${r}-writer${w}`, pools[r]!)),
    );
    for (const [i, name] of ['process-1', 'process-2'].entries())
      apps.push(startAppWriter(world, name, { first: i * 2, count: 2 }, 'coherence_log'));
    await Promise.all(apps.map((app) => app.ready));
    const clock = async () =>
      (await world.pool.query<{ t: string }>(`select clock_timestamp()::text as t`)).rows[0]!.t;
    const flips: { to: string; before: string; after: string; pauseMs: number }[] = [];
    const stores = { mongo: world.mongo, pg: world.pool, plan: world.plan, schema: world.schema };
    for (const to of ['pg_primary', 'pg_read', 'pg_primary', 'pg_read', 'pg_primary'] as const) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      const before = await clock();
      const flip = await flipPhase(stores, 'market', to, { change: { reason: `coherence test: to ${to}` } });
      flips.push({ to, before, after: await clock(), pauseMs: flip.pauseMs });
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    stop = true;
    await Promise.all(writers);
    expect(failures).toEqual([]);
    for (const report of await Promise.all(apps.splice(0).map((app) => app.stop()))) {
      expect(report.failures, report.name).toEqual([]);
      // Every app process wrote to both primaries, so its writes are part of what is checked below.
      expect(report.acknowledged.mongo, report.name).toBeGreaterThan(0);
      expect(report.acknowledged.pg, report.name).toBeGreaterThan(0);
      const { rows } = await world.pool.query<{ store: string; n: number }>(
        'select store, count(*)::int as n from coherence_log where writer = $1 group by store order by store',
        [report.name],
      );
      expect(rows).toEqual([
        { store: 'mongo', n: report.acknowledged.mongo },
        { store: 'pg', n: report.acknowledged.pg },
      ]);
    }

    // Between consecutive flips the log's stores must all be the phase's primary.
    const end = await clock();
    for (let i = 0; i < flips.length; i++) {
      const flip = flips[i]!;
      const until = flips[i + 1]?.before ?? end;
      const wrong = flip.to === 'pg_primary' ? 'mongo' : 'pg';
      const { rows } = await world.pool.query<{ wrong: number; right: number }>(
        `select count(*) filter (where store = $3)::int as wrong, count(*) filter (where store <> $3)::int as right
           from coherence_log where at > $1::timestamptz and at < $2::timestamptz`,
        [flip.after, until, wrong],
      );
      expect(rows[0], `after the flip to ${flip.to}`).toEqual({ wrong: 0, right: expect.any(Number) });
      expect(rows[0]!.right, `writes went on after the flip to ${flip.to}`).toBeGreaterThan(0);
      // Before the flip's lock was even asked for, the old primary took the writes.
      const since = flips[i - 1]?.after;
      if (since !== undefined) {
        const { rows: earlier } = await world.pool.query<{ n: number }>(
          `select count(*)::int as n from coherence_log where at > $1::timestamptz and at < $2::timestamptz and store <> $3`,
          [since, flip.before, wrong],
        );
        expect(earlier[0]!.n, `before the flip to ${flip.to}`).toBe(0);
      }
      expect(flip.pauseMs).toBeGreaterThan(0);
    }
    const events = await world.pool.query<{ pause: number }>(
      `select (figures -> 'pause' ->> 'pauseMs')::float8 as pause from ferry.domain_events
        where reason like 'coherence test%' order by id`,
    );
    expect(events.rows.map((r) => r.pause)).toEqual(flips.map((f) => f.pauseMs));
  }, 300_000);

  it('refuses a MongoDB write through the wrapper while PostgreSQL is the primary, naming the domain and phase', async () => {
    const runtime = runtimes[0]!;
    await waitFor(() => runtime.domainPhase('market') === 'pg_primary', 5000);
    const id = (world.ids.get('users') as ObjectId[])[0]!;
    const refused = await runtime
      .collection('users')
      .updateOne({ _id: id }, { $set: { refused: true } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(FerryError);
    expect(refused).toMatchObject({ code: 'CUTOVER_MONGO_WRITE_REFUSED' });
    expect((refused as Error).message).toContain('domain "market" is in phase pg_primary');
    expect(await world.mongo.collection('users').countDocuments({ refused: true })).toBe(0);
  }, 120_000);
});
