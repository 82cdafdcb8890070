import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX_CHANNEL, type OutboxWorkerOptions, workOutbox } from '../../../src/runtime/outbox/worker.js';
import { OUTBOX_SLEEPERS_LOCK } from '../../../src/target/outbox-wake-state.js';
import { createOutboxWorld, type OutboxWorld, queueCounts } from './outbox-support.js';
import { differences, servicesReady, verifyWorld, waitFor } from './support.js';

/**
 * State step 21: the capture notifies only while a worker sleeps, because a notifying commit
 * takes PostgreSQL's cluster-wide notify lock through its WAL flush. These tests count the
 * notifications on `ferry_outbox` with a LISTEN connection of their own.
 */
describe.skipIf(!servicesReady)('the capture notifying only a sleeping worker', () => {
  let world: OutboxWorld;
  let listener: pg.Client;
  let notified = 0;
  let ids: string[];
  let stopWorker: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    world = await createOutboxWorld('notify', 60);
    listener = new pg.Client(world.targetUrl);
    await listener.connect();
    listener.on('notification', (n) => {
      if (n.channel === OUTBOX_CHANNEL) notified++;
    });
    await listener.query(`listen ${OUTBOX_CHANNEL}`);
    const { rows } = await world.pool.query<{ id: string }>('select id::text from notifications order by id');
    ids = rows.map((r) => r.id);
  }, 600_000);

  afterEach(async () => {
    await stopWorker?.();
    stopWorker = undefined;
  });

  afterAll(async () => {
    await listener?.end();
    await world?.close();
  });

  function startWorker(options: OutboxWorkerOptions): void {
    const stop = new AbortController();
    const worker = workOutbox(
      { mongo: world.mongo, pg: world.pool, plan: world.plan, schema: 'public' },
      { ...options, signal: stop.signal },
    );
    stopWorker = async () => {
      stop.abort();
      await worker;
    };
  }

  /** Backends holding the sleepers mark of schema public in this database. */
  async function sleepers(): Promise<number[]> {
    const { rows } = await world.pool.query<{ pid: number }>(
      `select pid from pg_locks
        where locktype = 'advisory' and granted and classid = $1 and objid = hashtext('public')::oid
          and database = (select oid from pg_database where datname = current_database())`,
      [OUTBOX_SLEEPERS_LOCK],
    );
    return rows.map((r) => r.pid);
  }

  const write = (id: string, at: string) =>
    world.pool.query('update notifications set read_at = $2 where id = $1', [id, at]);

  /** Notifications arrive after the commit; give the listener a moment to hear them. */
  async function notificationsAfter(work: () => Promise<void>): Promise<number> {
    const before = notified;
    await work();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return notified - before;
  }

  it('sends no notification from concurrent writers while the worker is awake, and delivers every write', async () => {
    startWorker({ pollMs: 60_000, lingerMs: 120_000 });
    // The first write wakes the sleeping worker, which then lingers (polls) for two minutes.
    await waitFor(async () => (await sleepers()).length === 1, 30_000);
    const beforeWake = notified;
    await write(ids[0]!, '2031-01-01T00:00:00Z');
    await waitFor(async () => (await queueCounts(world)).pending === 0, 30_000);
    expect(await sleepers()).toEqual([]);
    // Its notification reaches this listener late on a busy machine; count from after it.
    await waitFor(async () => notified === beforeWake + 1, 30_000);

    const sent = await notificationsAfter(async () => {
      await Promise.all(
        [0, 1, 2, 3].map(async (writer) => {
          for (let i = writer; i < 40; i += 4) await write(ids[i % ids.length]!, '2031-02-02T00:00:00Z');
        }),
      );
    });
    expect(sent).toBe(0);
    await waitFor(async () => (await queueCounts(world)).pending === 0, 30_000);
    expect(differences(await verifyWorld(world, ['notifications']))).toEqual([]);
  }, 120_000);

  it('wakes a sleeping worker with the first write, which is delivered within a second', async () => {
    startWorker({ pollMs: 60_000, lingerMs: 100 });
    for (const [n, id] of [ids[1]!, ids[2]!].entries()) {
      await waitFor(async () => (await sleepers()).length === 1, 30_000);
      const started = Date.now();
      const sent = await notificationsAfter(async () => {
        await write(id, `2032-0${n + 1}-01T00:00:00Z`);
        await waitFor(async () => (await queueCounts(world)).pending === 0, 30_000);
      });
      // Without the notification the event would wait out the 60 s poll interval.
      expect(Date.now() - started).toBeLessThan(1_000 + 300);
      expect(sent).toBe(1);
    }
    expect(differences(await verifyWorld(world, ['notifications']))).toEqual([]);
  }, 120_000);

  it('delivers within a second a write whose transaction was open while the worker fell asleep', async () => {
    startWorker({ pollMs: 60_000, lingerMs: 100 });
    // Keep the worker busy, then write in a transaction that captures while it lingers and
    // commits after it would have fallen asleep: no sleeper was there to notify, so only the
    // gate (the worker waits for such writers before its last look at the queue) delivers it.
    await waitFor(async () => (await sleepers()).length === 1, 30_000);
    await write(ids[3]!, '2033-01-01T00:00:00Z');
    await waitFor(async () => (await queueCounts(world)).pending === 0, 30_000);
    const client = await world.pool.connect();
    let committed = 0;
    try {
      const sent = await notificationsAfter(async () => {
        await client.query('begin');
        await client.query('update notifications set read_at = $2 where id = $1', [
          ids[4]!,
          '2033-02-02T00:00:00Z',
        ]);
        await new Promise((resolve) => setTimeout(resolve, 600));
        await client.query('commit');
        committed = Date.now();
        await waitFor(async () => (await queueCounts(world)).pending === 0, 30_000);
      });
      expect(sent).toBe(0);
      expect(Date.now() - committed).toBeLessThan(1_000 + 300);
    } finally {
      client.release();
    }
    expect(differences(await verifyWorld(world, ['notifications']))).toEqual([]);
  }, 120_000);

  it('loses the mark of a worker whose connection died, and the worker marks itself again', async () => {
    startWorker({ pollMs: 60_000, lingerMs: 100 });
    await waitFor(async () => (await sleepers()).length === 1, 30_000);
    const [before] = await sleepers();
    await world.pool.query('select pg_terminate_backend($1)', [before]);
    // The mark went with the connection (a crashed worker cannot leave one behind), and the
    // worker, told of its lost listener, listens and marks itself asleep again.
    await waitFor(async () => {
      const now = await sleepers();
      return now.length === 1 && now[0] !== before;
    }, 10_000);
    const started = Date.now();
    await write(ids[5]!, '2034-01-01T00:00:00Z');
    await waitFor(async () => (await queueCounts(world)).pending === 0, 30_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(differences(await verifyWorld(world, ['notifications']))).toEqual([]);
  }, 120_000);
});
