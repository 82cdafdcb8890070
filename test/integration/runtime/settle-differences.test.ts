import type { ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectIdToUuid } from '../../../src/mapping/identity.js';
import { primaryKey } from '../../../src/mapping/model.js';
import { settleable, settleDifferences } from '../../../src/runtime/cutover/settle-differences.js';
import { workOutbox } from '../../../src/runtime/outbox/worker.js';
import { targetOf } from '../../../src/runtime/stores.js';
import { createOutboxWorld, type OutboxWorld } from './outbox-support.js';
import { differences, servicesReady, verifyWorld } from './support.js';

/**
 * The drill's second look at a verify's differences while PostgreSQL is the primary: an entity
 * the application writes without pause is never equal at one instant (the outbox delivers it a
 * moment after each write), so it is settled by the outbox having delivered it while it
 * differed; one whose event stays pending is drift until the outbox delivers it.
 */
describe.skipIf(!servicesReady)(
  'settling a live verify’s differences while PostgreSQL is the primary',
  () => {
    let world: OutboxWorld;
    let users: ObjectId[];

    beforeAll(async () => {
      world = await createOutboxWorld('settle', 700);
      users = world.ids.get('users')! as ObjectId[];
      expect(users.length).toBeGreaterThanOrEqual(40);
    }, 300_000);

    afterAll(async () => {
      await world?.close();
    });

    const stores = () => ({
      mongo: world.mongo,
      pg: world.pool,
      plan: world.plan,
      schema: 'public' as const,
    });

    /** The app's own SQL write of one user in PostgreSQL, captured for the outbox. */
    const writeInPostgres = async (id: ObjectId) => {
      const root = world.plan.collections
        .find((c) => c.name === 'users')!
        .tables.find((t) => t.parent === undefined)!;
      const { rowCount } = await world.pool.query(
        `update "${root.name}" set _extra = jsonb_set(coalesce(_extra, '{}'::jsonb), '{appWrites}',
              to_jsonb(coalesce((_extra ->> 'appWrites')::int, 0) + 1)) where "${primaryKey(root)[0]}" = $1::uuid`,
        [objectIdToUuid(id)],
      );
      expect(rowCount).toBe(1);
    };

    it('leaves an entity unsettled while its outbox event stays pending', async () => {
      await writeInPostgres(users[0]!);
      const result = await verifyWorld(world, ['users']);
      expect(differences(result)).toHaveLength(1);
      expect(settleable(result)).toBe(true);
      // No worker runs: the outbox delivers nothing, so its longer wait does not apply.
      const started = Date.now();
      const settled = await settleDifferences(stores(), targetOf(world.pool), result, {
        timeoutMs: 1500,
        outboxTimeoutMs: 60_000,
        intervalMs: 100,
      });
      expect(settled).toEqual({ settled: 0, delivered: 0, unsettled: [`users ${users[0]!.toHexString()}`] });
      expect(Date.now() - started).toBeLessThan(30_000);
    }, 120_000);

    it('settles an entity the application keeps writing, once the outbox delivered it while it differed', async () => {
      // A difference verify is sure to see: the write's event waits for a worker not yet started.
      await writeInPostgres(users[1]!);
      const result = await verifyWorld(world, ['users']);
      expect(differences(result)).toContainEqual(expect.objectContaining({ id: users[1]!.toHexString() }));
      const stop = new AbortController();
      const worker = workOutbox(stores(), { signal: stop.signal, pollMs: 100 });
      let writing = true;
      const writes = (async () => {
        while (writing) await writeInPostgres(users[1]!);
      })();
      try {
        const settled = await settleDifferences(stores(), targetOf(world.pool), result, {
          timeoutMs: 30_000,
          intervalMs: 100,
        });
        expect(settled.unsettled).toEqual([]);
        expect(settled.settled).toBe(differences(result).length);
      } finally {
        writing = false;
        await writes;
        stop.abort();
        await worker;
      }
    }, 120_000);

    it('waits past its timeout for entities an outbox behind is still delivering, as long as it delivers', async () => {
      // Forty entities behind, delivered one per batch: longer than the timeout to catch up.
      const behind = users.slice(2, 42);
      for (const id of behind) await writeInPostgres(id);
      const result = await verifyWorld(world, ['users']);
      expect(differences(result).length).toBeGreaterThanOrEqual(behind.length);
      const stop = new AbortController();
      const worker = workOutbox(stores(), { signal: stop.signal, pollMs: 100, batchSize: 1 });
      try {
        const hurried = await settleDifferences(stores(), targetOf(world.pool), result, {
          timeoutMs: 150,
          intervalMs: 50,
        });
        expect(hurried.unsettled.length).toBeGreaterThan(0);
        const patient = await settleDifferences(stores(), targetOf(world.pool), result, {
          timeoutMs: 150,
          outboxTimeoutMs: 60_000,
          // A batch may take longer than the timeout on a busy machine: that is not stuck.
          outboxIdleMs: 10_000,
          intervalMs: 50,
        });
        expect(patient.unsettled).toEqual([]);
      } finally {
        stop.abort();
        await worker;
      }
    }, 180_000);
  },
);
