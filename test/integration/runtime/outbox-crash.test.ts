import type { ChildProcess } from 'node:child_process';
import { ObjectId } from 'bson';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { workOutbox } from '../../../src/runtime/outbox/worker.js';
import { spawnFerry } from '../../support/cli.js';
import { createOutboxWorld, type OutboxWorld, queueCounts } from './outbox-support.js';
import { differences, servicesReady, verifyWorld, waitFor } from './support.js';

/**
 * Writers that keep changing PostgreSQL, as the app does in pg_primary: message bodies of
 * `chats` (child rows), notifications (root rows), new chats and deletes of them. Returns a
 * stop function that resolves once every writer has finished its last transaction.
 */
function startWriters(world: OutboxWorld, chats: readonly string[], writers: number): () => Promise<number> {
  let running = true;
  let writes = 0;
  const loops = Array.from({ length: writers }, async (_, w) => {
    const created: string[] = [];
    for (let n = 0; running; n++) {
      const chat = chats[(n * 7 + w) % chats.length]!;
      switch (n % 5) {
        case 0:
        case 1:
          await world.pool.query(`update chats_messages set body = $2 where parent_id = $1 and idx = 0`, [
            chat,
            `writer ${w} write ${n}`,
          ]);
          break;
        case 2:
          await world.pool.query(
            `update notifications set read_at = date_trunc('milliseconds', clock_timestamp())
              where id = (select id from notifications order by id offset $1 limit 1)`,
            [n % 20],
          );
          break;
        case 3: {
          const id = objectIdToUuid(new ObjectId());
          await world.pool.query(
            `insert into chats select (jsonb_populate_record(null::chats, to_jsonb(c) || jsonb_build_object('id', $2::text))).*
               from chats c where id = $1`,
            [chat, id],
          );
          created.push(id);
          break;
        }
        case 4:
          if (created.length > 2)
            await world.pool.query('delete from chats where id = $1', [created.shift()]);
          break;
      }
      writes++;
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    return writes;
  };
}

async function chatsWithMessages(world: OutboxWorld, limit: number): Promise<string[]> {
  const { rows } = await world.pool.query<{ id: string }>(
    `select distinct parent_id::text as id from chats_messages where idx = 0 order by 1 limit $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}

/**
 * Start `ferry outbox work` in its own process and return it once it has delivered something,
 * with a promise of its exit code.
 */
async function deliveringWorker(
  world: OutboxWorld,
  extra: readonly string[],
): Promise<{ worker: ChildProcess; exited: Promise<number | null> }> {
  const delivered = async () =>
    (await world.pool.query(`select count(*)::int as n from ferry.outbox where status = 'delivered'`)).rows[0]
      .n as number;
  const before = await delivered();
  const worker = spawnFerry(
    [
      'outbox',
      'work',
      '--source',
      world.sourceUri,
      '--target',
      world.targetUrl,
      '--batch',
      '10',
      '--poll',
      '50',
      ...extra,
    ],
    world.cwd,
  );
  const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
  await waitFor(async () => (await delivered()) > before, 60_000);
  return { worker, exited };
}

describe.skipIf(!servicesReady)('the outbox worker under crashes and competition', () => {
  let world: OutboxWorld;

  beforeAll(async () => {
    world = await createOutboxWorld('crash', 120);
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  it('loses nothing when a worker is killed with SIGKILL mid-batch three times during a load of writes', async () => {
    const stopWriters = startWriters(world, await chatsWithMessages(world, 12), 2);
    const leasedAtKill: number[] = [];
    try {
      for (let kill = 0; kill < 3; kill++) {
        // Killed once it is delivering, at a moment that has nothing to do with its batches.
        const { worker, exited } = await deliveringWorker(world, ['--lease', '2']);
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
        worker.kill('SIGKILL');
        await exited;
        const { rows } = await world.pool.query(
          `select count(*)::int as n from ferry.outbox where status = 'pending' and lease_owner is not null`,
        );
        leasedAtKill.push(rows[0].n);
      }
    } finally {
      const writes = await stopWriters();
      expect(writes).toBeGreaterThan(100);
    }
    // At least one kill caught the worker holding claims: it died mid-batch.
    expect(
      leasedAtKill.some((n) => n > 0),
      JSON.stringify(leasedAtKill),
    ).toBe(true);

    const drained = await world.ferry(['outbox', 'work', '--drain', '--poll', '100', '--json']);
    expect(drained.code, drained.stderr).toBe(0);
    expect(await queueCounts(world)).toEqual({ pending: 0, dead: 0 });
    expect(differences(await verifyWorld(world))).toEqual([]);
  }, 600_000);

  it('a worker told SIGTERM during a load of writes settles or gives back its claims and exits 0', async () => {
    const stopWriters = startWriters(world, await chatsWithMessages(world, 12), 2);
    let code: number | null = null;
    try {
      const { worker, exited } = await deliveringWorker(world, []);
      worker.kill('SIGTERM');
      code = await exited;
    } finally {
      await stopWriters();
    }
    expect(code).toBe(0);
    // The default lease is 30 s: a claim left behind would still be held now.
    const { rows } = await world.pool.query(
      `select count(*)::int as n from ferry.outbox where status = 'pending' and lease_owner is not null`,
    );
    expect(rows[0].n).toBe(0);
    const drained = await world.ferry(['outbox', 'work', '--drain', '--json']);
    expect(drained.code, drained.stderr).toBe(0);
    expect(differences(await verifyWorld(world))).toEqual([]);
  }, 600_000);

  it('four workers at once on a few hot entities leave MongoDB equal to PostgreSQL', async () => {
    const hot = await chatsWithMessages(world, 4);
    const stop = new AbortController();
    const pools = Array.from({ length: 4 }, () => {
      const pool = new pg.Pool({ connectionString: world.targetUrl, max: 3 });
      pool.on('error', () => {});
      return pool;
    });
    const delivered = [0, 0, 0, 0];
    const workers = pools.map((pool, i) =>
      workOutbox(
        { mongo: world.mongo, pg: pool, plan: world.plan, schema: 'public' },
        {
          signal: stop.signal,
          batchSize: 2,
          pollMs: 20,
          onBatch: (r) => {
            if (r.kind === 'delivered') delivered[i]! += r.outcome.entities;
          },
        },
      ),
    );
    try {
      const stopWriters = startWriters(world, hot, 4);
      await new Promise((resolve) => setTimeout(resolve, 8000));
      await stopWriters();
      await waitFor(async () => (await queueCounts(world)).pending === 0, 120_000);
    } finally {
      stop.abort();
      await Promise.all(workers);
      await Promise.all(pools.map((p) => p.end()));
    }
    expect(delivered.filter((n) => n > 0).length, JSON.stringify(delivered)).toBeGreaterThanOrEqual(2);
    expect(await queueCounts(world)).toEqual({ pending: 0, dead: 0 });
    expect(differences(await verifyWorld(world))).toEqual([]);
  }, 600_000);
});
