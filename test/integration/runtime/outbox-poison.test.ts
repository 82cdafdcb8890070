import type { ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid, uuidToObjectId } from '../../../src/mapping/identity.js';
import { createOutboxWorld, type OutboxWorld, queueCounts } from './outbox-support.js';
import { differences, servicesReady, verifyWorld } from './support.js';

/**
 * The poison entity is a chat whose first message body grows to 17 MB in PostgreSQL: rebuilt,
 * the document is over MongoDB's 16 MB limit, which the driver refuses before sending (FerretDB
 * reports the same 16 MiB maxBsonObjectSize as MongoDB).
 */
describe.skipIf(!servicesReady)('a poison entity goes to dead-letter and holds nothing else up', () => {
  let world: OutboxWorld;

  beforeAll(async () => {
    world = await createOutboxWorld('poison', 100);
  }, 600_000);

  afterAll(async () => {
    await world?.close();
  });

  it('goes dead after its attempts while the other changes are delivered, and redrive after the fix delivers it', async () => {
    const { rows } = await world.pool.query<{ id: string }>(
      `select parent_id::text as id from chats_messages where idx = 0 order by parent_id limit 4`,
    );
    const [poison, ...healthy] = rows.map((r) => r.id);
    await world.pool.query(
      `update chats_messages set body = repeat('x', 17 * 1024 * 1024) where parent_id = $1 and idx = 0`,
      [poison],
    );
    for (const id of healthy)
      await world.pool.query(
        `update chats_messages set body = 'still deliverable' where parent_id = $1 and idx = 0`,
        [id],
      );
    const [notification] = world.ids.get('notifications') as ObjectId[];
    await world.pool.query('delete from notifications where id = $1', [objectIdToUuid(notification!)]);

    const first = await world.ferry(['outbox', 'work', '--drain', '--max-attempts', '3', '--json']);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toContain('dead event(s) are left in the outbox');
    expect(JSON.parse(first.stdout)).toMatchObject({ pending: 0, deadInQueue: 1, failed: 3 });
    const { rows: dead } = await world.pool.query(
      `select collection, doc_key, attempts, last_error from ferry.outbox where status = 'dead'`,
    );
    expect(dead).toEqual([
      {
        collection: 'chats',
        doc_key: poison,
        attempts: 3,
        last_error: expect.stringMatching(/larger than the maximum/i),
      },
    ]);
    // Everything else arrived: only the poison chat differs.
    for (const id of healthy) {
      const doc = await world.mongo.collection('chats').findOne({ _id: uuidToObjectId(id!) });
      expect(doc?.messages[0].body).toBe('still deliverable');
    }
    expect(await world.mongo.collection('notifications').findOne({ _id: notification! })).toBeNull();
    const diffs = differences(await verifyWorld(world));
    expect(diffs.map((d) => (d as { collection: string }).collection)).toEqual(['chats']);

    const status = await world.ferry(['status', '--json']);
    expect(JSON.parse(status.stdout).runtime.domains[0].outbox).toMatchObject({ dead: 1, depth: 0 });
    const text = await world.ferry(['status']);
    expect(text.stdout).toMatch(/market\s+│?\s*0\s+│?\s*-\s+│?\s*[\d.]+\s+│?\s*0\s+│?\s*1/);

    // The fix: the message is cut back in PostgreSQL, with capture off, as a repair made
    // while the domain was not fed would be; only the redrive brings the entity across.
    await world.pool.query(`alter table chats_messages disable trigger ferry_capture_update`);
    await world.pool.query(`update chats_messages set body = 'cut back' where parent_id = $1 and idx = 0`, [
      poison,
    ]);
    await world.pool.query(`alter table chats_messages enable trigger ferry_capture_update`);
    expect(await queueCounts(world)).toEqual({ pending: 0, dead: 1 });

    const redrive = await world.ferry([
      'outbox',
      'redrive',
      '--collection',
      'chats',
      '--id',
      uuidToObjectId(poison!).toHexString(),
      '--json',
    ]);
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(JSON.parse(redrive.stdout)).toEqual({ redriven: 1 });
    const second = await world.ferry(['outbox', 'work', '--drain', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(await queueCounts(world)).toEqual({ pending: 0, dead: 0 });
    expect(differences(await verifyWorld(world))).toEqual([]);
  }, 600_000);
});
