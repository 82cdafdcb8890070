import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workOutbox } from '../../../src/runtime/outbox/worker.js';
import { createOutboxWorld, type OutboxWorld, queueCounts } from './outbox-support.js';
import { differences, servicesReady, verifyWorld, waitFor } from './support.js';

/** Called after each claim query of the worker's pool has returned, before the worker sees its rows. */
let afterClaim: (claimed: number) => Promise<void> = async () => {};

/**
 * A client for the worker's pool whose claim queries (the only ones with `skip locked`) hand
 * their result to `afterClaim` first: the test writes exactly between the claim's snapshot and
 * the worker's idle wait, where a notification finds nobody listening for it.
 */
class ClaimWatchingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client.query's many overloads, promise and callback forms alike.
  override query(...args: any[]): any {
    const text: unknown = typeof args[0] === 'string' ? args[0] : args[0]?.text;
    const callback = args.at(-1);
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    const query = (...a: any[]) => (super.query as (...b: any[]) => any)(...a);
    if (typeof text !== 'string' || !text.includes('skip locked')) return query(...args);
    // pg-pool's own `query` passes a callback; a checked-out client is used with promises.
    if (typeof callback === 'function')
      return query(...args.slice(0, -1), (error: Error | null, r: pg.QueryResult) => {
        if (error) return callback(error, r);
        afterClaim(r.rowCount ?? 0).then(() => callback(null, r), callback);
      });
    return query(...args).then(async (r: pg.QueryResult) => {
      await afterClaim(r.rowCount ?? 0);
      return r;
    });
  }
}

describe.skipIf(!servicesReady)('the outbox worker waking on a notification', () => {
  let world: OutboxWorld;
  let pool: pg.Pool;

  beforeAll(async () => {
    world = await createOutboxWorld('wakeup', 60);
    pool = new pg.Pool({ connectionString: world.targetUrl, max: 4, Client: ClaimWatchingClient });
    pool.on('error', () => {});
  }, 600_000);

  afterAll(async () => {
    await pool?.end();
    await world?.close();
  });

  it('delivers a write that commits while the worker claims at once, not a poll interval later', async () => {
    const { rows } = await world.pool.query<{ id: string }>(
      'select id::text from notifications order by id limit 1',
    );
    const id = rows[0]!.id;
    let written: number | undefined;
    afterClaim = async (claimed) => {
      if (claimed > 0 || written !== undefined) return;
      // The claim found nothing; this write commits after its snapshot, and its notification
      // reaches the worker's listener before the worker starts waiting.
      await world.pool.query(`update notifications set read_at = '2033-03-03T00:00:00Z' where id = $1`, [id]);
      written = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 300));
    };
    const stop = new AbortController();
    const worker = workOutbox(
      { mongo: world.mongo, pg: pool, plan: world.plan, schema: 'public' },
      { signal: stop.signal, pollMs: 60_000 },
    );
    try {
      await waitFor(() => written !== undefined, 30_000);
      // Without the wake-up the event would sit out the whole 60 s poll interval.
      await waitFor(async () => (await queueCounts(world)).pending === 0, 10_000);
      expect(Date.now() - written!).toBeLessThan(10_000);
      expect(differences(await verifyWorld(world, ['notifications']))).toEqual([]);
    } finally {
      stop.abort();
      await worker;
      afterClaim = async () => {};
    }
  }, 120_000);
});
